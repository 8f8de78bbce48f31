/**
 * Races between the writer thread, the event loop's own commits and segment rotation, each
 * driven to its window on purpose: the committer run in the test with an io that fails where
 * asked, the ring's LSN words written by a second thread while the test reads them, and the
 * simulated disk cut off at the write that would make a lost name matter.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Log, type LogOptions } from "../../src/index.js";
import { CommitRing, CommitterState, Control, Owner } from "../../src/log/commit-ring.js";
import { Committer, type CommitterIo } from "../../src/log/committer.js";
import { SEGMENT_HEADER_BYTES } from "../../src/log/format.js";
import { encodeUnsealedRecord } from "../../src/log/record.js";
import { segmentName } from "../../src/log/segment-header.js";
import { startWorker } from "../../src/start-worker.js";
import { SimulatedDisk, wrapFileSystem } from "../../src/testing/index.js";
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

const LOG_DIR = "/data/log";

function simulatedLogOptions(disk: SimulatedDisk, fileSystem = disk.view()): LogOptions {
  // A frame may take nearly a whole segment: a rotation can then come while the active segment
  // is too empty to have started a spare of its own, so that the spare it takes is a recycled one.
  return { segmentBytes: 8192 + 64, batchBytesMax: 8192, preallocate: true, sync: "always", fileSystem, clock: disk.clock };
}

test("a power cut while a rotation writes its header into a just-recycled spare leaves a log that opens with every acknowledged record", async () => {
  const disk = new SimulatedDisk(22);
  let armed = false;
  let rotationHeld: (() => void) | undefined;
  let rotationStarted: () => void = () => undefined;
  const rotating = new Promise<void>((resolve) => {
    rotationStarted = resolve;
  });
  const newSegment = segmentName(3);
  let cut = false;
  const view = disk.view();
  const fileSystem = wrapFileSystem(view, {
    handle: (inner) => ({
      // Armed, the next fdatasync of a segment is the rotation's of the old one: it waits there
      // until the truncation below is under way.
      datasync: async () => {
        if (armed && rotationHeld === undefined && inner.path.endsWith(".log")) {
          await new Promise<void>((resolve) => {
            rotationHeld = resolve;
            rotationStarted();
          });
        }
        await inner.datasync();
      },
      // The power goes once the new segment's header is durable, before its directory is synced.
      write: async (data, position, options) => {
        await inner.write(data, position, options);
        if (armed && !cut && position === 0 && inner.path.endsWith(newSegment)) {
          cut = true;
          disk.crash("lose-all");
        }
      },
    }),
    // The truncation's directory fsync lets the rotation go on, and waits a few turns of the
    // event loop (the simulated disk's calls take none) before it syncs.
    syncDirectory: async (directory) => {
      if (armed && rotationHeld !== undefined) {
        rotationHeld();
        for (let turn = 0; turn < 5; turn++) await nextTurn();
      }
      return view.syncDirectory(directory);
    },
  });
  const log = await Log.open(LOG_DIR, simulatedLogOptions(disk, fileSystem));
  // LSN 1 fills most of the first segment (the spare is zero-filled meanwhile); LSN 2 does not
  // fit after it, so it starts the second segment, which then is too empty for a new spare.
  await log.append(new Uint8Array(8000).fill(1));
  await log.append(new Uint8Array(200).fill(2));
  assert.equal(log.segments().length, 2);
  assert.equal(log.stats().spareSegmentReady, false);
  // LSN 3 does not fit either: a rotation starts and is held at its first fdatasync; meanwhile
  // the first segment is truncated and recycled as the spare, which the rotation then takes.
  armed = true;
  const appended = log.append(new Uint8Array(8000).fill(3));
  await rotating;
  const truncated = log.truncateBefore(2);
  await Promise.allSettled([appended, truncated]);
  assert.ok(cut, "the power was cut at the new segment's header");
  await log.close().catch(() => undefined);

  const reopened = await Log.open(LOG_DIR, simulatedLogOptions(disk));
  try {
    const lsns: number[] = [];
    for await (const record of reopened.read()) {
      assert.deepEqual(record.payload, new Uint8Array(record.lsn === 1 ? 8000 : 200).fill(record.lsn));
      lsns.push(record.lsn);
    }
    assert.equal(lsns.at(-1), 2, "every acknowledged record is there, and nothing else");
    assert.ok(lsns[0] === 1 || lsns[0] === 2, `the log starts at ${lsns[0]}`);
  } finally {
    await reopened.close();
  }
  assert.ok(!disk.paths().includes(join(LOG_DIR, newSegment)), "the new segment's name was never durable");
});
