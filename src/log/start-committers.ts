/**
 * Stage 3 of a write, the committer (committer.ts), started where it runs. Previous stage:
 * commit placement (commit-placement.ts) decides which of these commits a published group.
 * Next stage: acknowledgement.ts, woken by the committer's `event` word.
 *
 * With a real disk (segments have descriptors), the committer runs on the writer thread
 * (commit-thread.ts) with blocking writes and fdatasyncs, and, with commitOnEventLoop, a second
 * instance lets the event loop commit a frame itself; the commit lock in the control words lets
 * one write at a time. With a file system without descriptors (the simulated disk), one
 * committer runs as an async loop on the event loop, through the file system's own handle.
 */
import type { Worker } from "node:worker_threads";
import type { Clock } from "../io/index.js";
import { startWorker } from "../start-worker.js";
import { type CommitRing, Owner } from "./commit-ring.js";
import { Committer, type CommitterIo, descriptorIo } from "./committer.js";
import type { ResolvedLogOptions } from "./options.js";
import type { SegmentSet } from "./segments.js";

/** Event-loop turns the inline committer polls a control word before it sleeps (see inlineIo). */
const INLINE_SPIN_TURNS = 64;

export interface Committers {
  /** The writer thread, when the segments have descriptors. */
  worker: Worker | undefined;
  /** The event loop's own committer beside the writer thread (commitOnEventLoop); it only calls `commitHere`. */
  here: Committer | undefined;
  /** The committer loop running on the event loop, when the segments have no descriptors. */
  inline: Promise<void> | undefined;
}

/**
 * Starts the committers for `ring`, whose control words must already hold the active segment.
 * `onThreadError` hears an error the writer thread itself raised (not a write or sync error,
 * which the committer records in the ring).
 */
export function startCommitters(
  ring: CommitRing,
  segments: SegmentSet,
  options: ResolvedLogOptions,
  onThreadError: (error: unknown) => void,
): Committers {
  const config = { sync: options.sync, batchBytesMax: options.batchBytesMax };
  if (segments.handle.descriptor === undefined) {
    const inline = new Committer(ring, inlineIo(ring.control, segments, options.clock), config).run();
    return { worker: undefined, here: undefined, inline };
  }
  const worker = startWorker(import.meta.url, "commit-thread", { buffers: ring.buffers, config });
  worker.unref();
  worker.on("error", onThreadError);
  let here: Committer | undefined;
  if (options.commitOnEventLoop) {
    const neverWaits = () => {
      throw new Error("a committer on the event loop never waits");
    };
    here = new Committer(ring, descriptorIo(ring.control, neverWaits), config, Owner.appenders);
  }
  return { worker, here, inline: undefined };
}

/** The inline committer's I/O: the active segment's handle, read at each call (rotation changes it). */
function inlineIo(control: Int32Array, segments: SegmentSet, clock: Clock): CommitterIo {
  return {
    write: async (chunks, position, datasync) => {
      const handle = segments.handle;
      let at = position;
      for (const chunk of chunks) {
        await handle.write(chunk, at);
        at += chunk.byteLength;
      }
      if (datasync) await handle.datasync();
    },
    datasync: () => segments.handle.datasync(),
    nowMs: () => clock.monotonicMs(),
    wait: async (index, value) => {
      // Turn by turn first: waitAsync wakes through a V8 task whose order against setImmediate
      // varies from run to run, and a simulated run must replay exactly from its seed. A
      // committer idle for longer sleeps for real.
      for (let turn = 0; turn < INLINE_SPIN_TURNS; turn++) {
        if (Atomics.load(control, index) !== value) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
      const wait = Atomics.waitAsync(control, index, value);
      if (wait.async) await wait.value;
    },
  };
}
