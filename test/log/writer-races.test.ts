/**
 * Races between the writer thread and the event loop's own commits, each driven to its window
 * on purpose: the committer run in the test with an io that fails where asked.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { CommitRing, CommitterState, Control, Owner } from "../../src/log/commit-ring.js";
import { Committer, type CommitterIo } from "../../src/log/committer.js";
import { SEGMENT_HEADER_BYTES } from "../../src/log/format.js";
import { encodeUnsealedRecord } from "../../src/log/record.js";

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
