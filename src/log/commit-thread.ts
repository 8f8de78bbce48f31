/**
 * Entry point of the log's writer thread: runs the committer with blocking writes and
 * fdatasyncs on the active segment's descriptor, which the main thread hands over through
 * the control words.
 */
import { workerData } from "node:worker_threads";
import { CommitRing, type CommitRingBuffers } from "./commit-ring.js";
import { Committer, type CommitterConfig, descriptorIo } from "./committer.js";

interface CommitThreadData {
  buffers: CommitRingBuffers;
  config: CommitterConfig;
}

const data = workerData as CommitThreadData;
const ring = new CommitRing(data.buffers);
const control = ring.control;

await new Committer(
  ring,
  // Sleeps at once rather than spinning before the futex wait: a spinning thread takes the core
  // the event loop needs to publish the next group.
  descriptorIo(control, (index, value) => {
    Atomics.wait(control, index, value);
  }),
  data.config,
).run();
