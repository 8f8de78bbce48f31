/**
 * Entry point of the log's writer thread: runs the committer with blocking writes and
 * fdatasyncs on the active segment's descriptor, which the main thread hands over through
 * the control words.
 */
import { workerData } from "node:worker_threads";
import { datasyncSync, writeChunksSync } from "../io/sync-ops.js";
import { CommitRing, type CommitRingBuffers, Control } from "./commit-ring.js";
import { Committer, type CommitterConfig } from "./committer.js";

interface CommitThreadData {
  buffers: CommitRingBuffers;
  config: CommitterConfig;
}

const data = workerData as CommitThreadData;
const ring = new CommitRing(data.buffers);
const control = ring.control;

await new Committer(
  ring,
  {
    write(chunks, position, datasync) {
      const fd = Atomics.load(control, Control.fd);
      writeChunksSync(fd, chunks, position);
      if (datasync) datasyncSync(fd);
    },
    datasync() {
      datasyncSync(Atomics.load(control, Control.fd));
    },
    // Sleeping at once beats busy-waiting here: spinning 20-300 µs before the futex wait was
    // slower at every concurrency on these 2-core machines (it takes the core the event loop needs).
    nowMs: () => performance.now(),
    wait(index, value) {
      Atomics.wait(control, index, value);
    },
  },
  data.config,
).run();
