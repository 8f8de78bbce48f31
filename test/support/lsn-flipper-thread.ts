/**
 * A thread that writes one LSN of a commit ring over and over, alternating between two values,
 * as the committer publishes progress while the event loop reads it. Stops when the test sets
 * `stop[0]`, or after `writesMax` writes.
 */
import { workerData } from "node:worker_threads";
import { CommitRing, type CommitRingBuffers } from "../../src/log/commit-ring.js";

export interface LsnFlipperData {
  buffers: CommitRingBuffers;
  /** The control word of the LSN (`Control.writtenLsnLow`, ...). */
  index: number;
  values: [number, number];
  writesMax: number;
  /** An Int32Array's buffer: [0] stop flag set by the test, [1] writes made. */
  signals: SharedArrayBuffer;
}

const data = workerData as LsnFlipperData;
const ring = new CommitRing(data.buffers);
const signals = new Int32Array(data.signals);
const [first, second] = data.values;
let writes = 0;
while (writes < data.writesMax && Atomics.load(signals, 0) === 0) {
  ring.writeLsn(data.index, writes % 2 === 0 ? second : first);
  writes++;
  if (writes % 1024 === 0) Atomics.store(signals, 1, writes);
}
Atomics.store(signals, 1, writes);
