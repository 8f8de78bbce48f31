/**
 * Races between the writer thread and the event loop's own commits, each driven to its window
 * on purpose: the committer run in the test with an io that fails where asked, and the ring's
 * LSN words written by a second thread while the test reads them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { CommitRing, CommitterState, Control, Owner } from "../../src/log/commit-ring.js";
import { Committer, type CommitterIo } from "../../src/log/committer.js";
import { SEGMENT_HEADER_BYTES } from "../../src/log/format.js";
import { encodeUnsealedRecord } from "../../src/log/record.js";
import { startWorker } from "../../src/start-worker.js";
import type { LsnFlipperData } from "../support/lsn-flipper-thread.js";

/** A ring with one record of `lsn` published as one group, ready to be committed. */
function ringWithOneGroup(lsn: number): CommitRing {
  const ring = CommitRing.create(1 << 16);
  const control = ring.control;
  Atomics.store(control, Control.state, CommitterState.running);
  Atomics.store(control, Control.segmentBytes, 1 << 20);
  ring.writePosition(SEGMENT_HEADER_BYTES);
  ring.writeLsn(Control.writtenLsnLow, lsn - 1);
  ring.writeLsn(Control.durableLsnLow, lsn - 1);
  const end = encodeUnsealedRecord(ring.ring, ring.ringView, 0, lsn, new Uint8Array(40).fill(7));
  ring.groups[0] = 0;
  ring.groups[1] = end;
  ring.groups[2] = 1;
  Atomics.store(control, Control.published, 1);
  return ring;
}

/** An EIO that calls `onRead` whenever its code, syscall or message is read. */
function observedEio(onRead: () => void): Error {
  const error = new Error();
  for (const [key, value] of [
    ["code", "EIO"],
    ["syscall", "fdatasync"],
    ["message", "EIO: injected fault, fdatasync"],
  ]) {
    Object.defineProperty(error, key as string, {
      get: () => {
        onRead();
        return value;
      },
    });
  }
  return error;
}

test("after the writer thread's fdatasync fails, the event loop's committer writes and acknowledges nothing", async () => {
  const ring = ringWithOneGroup(1);
  const control = ring.control;
  let eventLoopWrites = 0;
  const eventLoopIo: CommitterIo = {
    write: () => {
      eventLoopWrites++;
    },
    datasync: () => undefined,
    wait: () => undefined,
    nowMs: () => 0,
  };
  const config = { sync: "always", batchBytesMax: 1 << 16 } as const;
  const eventLoop = new Committer(ring, eventLoopIo, config, Owner.appenders);
  // On two threads the event loop may commit at any moment of the thread's failure path; here
  // it tries at every step of that path the test can see: each read of the error, and the
  // moment the thread records it in the ring.
  const attempts: Promise<boolean>[] = [];
  const tryEventLoopCommit = (): void => {
    attempts.push(eventLoop.commitHere());
  };
  const setError = ring.setError.bind(ring);
  ring.setError = (message) => {
    tryEventLoopCommit();
    setError(message);
  };
  const threadIo: CommitterIo = {
    write: () => undefined,
    datasync: () => {
      throw observedEio(tryEventLoopCommit);
    },
    wait: () => nextTurn(),
    nowMs: () => 0,
  };
  await new Committer(ring, threadIo, config, Owner.thread).run();
  await Promise.allSettled(attempts);
  assert.ok(attempts.length > 0, "the event loop tried to commit");
  assert.equal(eventLoopWrites, 0, "no frame is written after the failed fdatasync");
  assert.equal(Atomics.load(control, Control.durable), 0, "nothing is acknowledged as durable");
  assert.equal(Atomics.load(control, Control.written), 0, "nothing is acknowledged as written");
  assert.equal(Atomics.load(control, Control.state), CommitterState.failed);
  assert.equal(Atomics.load(control, Control.owner), Owner.none, "the lock is released");
  assert.match(ring.readError(), /EIO/);
});

/** Reads the LSN at `index` while another thread alternates it between `values`; returns what was read that is neither. */
async function readWhileAnotherThreadWrites(
  index: number,
  values: [number, number],
): Promise<{ changes: number; reads: number; mixed: number[] }> {
  const ring = CommitRing.create(1 << 16);
  ring.writeLsn(index, values[0]);
  const signals = new Int32Array(new SharedArrayBuffer(8));
  const data: LsnFlipperData = { buffers: ring.buffers, index, values, writesMax: 50_000_000, signals: signals.buffer };
  const worker = startWorker(import.meta.url, "../support/lsn-flipper-thread", data);
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  const mixed: number[] = [];
  let changes = 0;
  let reads = 0;
  try {
    // The thread takes ~0.3 s to start under tsx, longer on a busy machine.
    const startedByMs = performance.now() + 20_000;
    while (ring.readLsn(index) === values[0] && performance.now() < startedByMs) await nextTurn();
    // Then bounded in time and in what it needs to see.
    const deadlineMs = performance.now() + 1000;
    let last = ring.readLsn(index);
    while (performance.now() < deadlineMs && changes < 100_000 && mixed.length === 0) {
      for (let i = 0; i < 10_000; i++) {
        const lsn = ring.readLsn(index);
        if (lsn !== values[0] && lsn !== values[1]) mixed.push(lsn);
        if (lsn !== last) changes++;
        last = lsn;
      }
      reads += 10_000;
    }
  } finally {
    Atomics.store(signals, 0, 1);
    await exited;
  }
  return { changes, reads, mixed };
}

for (const [name, index] of [
  ["written", Control.writtenLsnLow],
  ["durable", Control.durableLsnLow],
  ["rotation", Control.rotateLsnLow],
] as const) {
  test(`the ${name} LSN crossing 2^32 is read whole while another thread writes it, never as a mix of two values`, async () => {
    // Both 32-bit halves differ between these two: a read of one half from each is neither.
    const values: [number, number] = [2 ** 32 - 1, 2 ** 32];
    const { changes, reads, mixed } = await readWhileAnotherThreadWrites(index, values);
    assert.deepEqual(mixed.slice(0, 3), [], `${mixed.length} mixed values in ${reads} reads (${changes} changes seen)`);
    assert.ok(changes > 0, "the reads overlapped the other thread's writes");
  });
}
