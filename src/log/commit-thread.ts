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
  // Sleeping at once beats busy-waiting here: spinning 20-300 µs before the futex wait was
  // slower at every concurrency on these 2-core machines (it takes the core the event loop needs).
  descriptorIo(control, (index, value) => {
    Atomics.wait(control, index, value);
  }),
  data.config,
).run();
