/**
 * Stage 2 of a write, commit placement: who commits what the appenders published, and when.
 * Previous stage: sequencer.ts, which calls `published` once per group it hands to the ring.
 * Next stage: committer.ts, run either by the writer thread (woken through the ring) or by the
 * event loop itself (`Committer.commitHere`, with commitOnEventLoop).
 *
 * A policy implements `CommitPlacement`; adaptive-placement.ts is the one in use, and writer.ts
 * builds it. Whatever it decides, it must keep one promise: a published group is always
 * covered, by a committer already busy (which takes every published group when its fsync
 * returns), by a wake of the writer thread, or by a commit the event loop will make; never
 * left waiting for a later append. The commit lock in the control words (committer.ts) keeps
 * the two committers from writing at once, so a policy decides only placement and timing, never
 * correctness of the frames.
 */

export interface CommitPlacement {
  /** Called on the append path right after each group is published (keep it cheap: no allocation). */
  published(): void;
  /** `groups` groups were just acknowledged: their writers are about to run, and most append again. */
  acknowledged(groups: number): void;
  /** Published groups are waiting that no wake covers (a new segment just came in): have them committed. */
  commitSoon(): void;
}

/** What a placement may ask of the acknowledgement stage (acknowledgement.ts). */
export interface PlacementHost {
  /** Takes in what a commit made on the event loop changed: acknowledgements, rotation, failure. */
  poll(): void;
  /** Fail-stop after a write or sync error of a commit made on the event loop. */
  fail(cause: unknown): void;
}
