/**
 * The commit placement in use (the interface and its promise: commit-placement.ts). Previous
 * stage: sequencer.ts publishes a group and calls `published`. Next stage: committer.ts, on the
 * writer thread (woken through the ring) or on the event loop (`Committer.commitHere`).
 *
 * How it places a burst of appends:
 * - By default the wake waits for the end of this event-loop turn (`wakeSoon`), when the turn
 *   has appended all it will: a committer woken at the first append of a burst would commit
 *   that one alone and make the rest wait a whole fsync. A busy committer needs no wake: it
 *   takes everything published when its fsync returns.
 * - At the end of the turn (`wakeNow`), when the burst's JavaScript is cheaper than a commit,
 *   the event loop would only wait through the fsync: it commits itself, blocking for the write
 *   and fdatasync but saving the two hand-offs to and from the writer thread. If the writer
 *   thread holds the commit lock, it takes the burst when its fsync returns.
 * - When the burst's JavaScript outweighs a commit (`splitting`), the writer thread is woken as
 *   soon as `wakeAtGroups` groups are published, so its I/O overlaps the JavaScript of the rest.
 *
 * The two costs are moving averages: a commit's duration (from the committer's statistics) and
 * the JavaScript the woken writers run per group (timed from an acknowledgement to the end of
 * the turn that follows it, `measureJs`). bench/log.ts compares this policy (`logbook`) with the
 * writer thread alone (`logbook-writer-thread-only`).
 */

import type { CommitPlacement, PlacementHost } from "./commit-placement.js";
import { CommitterState, Control, Stat } from "./commit-ring.js";
import type { Committer } from "./committer.js";
import type { WriteState } from "./write-state.js";

/** A burst splits once its JavaScript, in commits, outweighs this many commits. */
const SPLIT_WHEN_JS_OVER_COMMIT = 1;
/** Weight of a new sample in the moving averages. */
const EWMA_WEIGHT = 0.2;

export class AdaptivePlacement implements CommitPlacement {
  private wakeScheduled = false;
  /** Groups published since the last acknowledgement, and how many of them wake the writer thread at once. */
  private publishedSinceAck = 0;
  private wakeAtGroups = 1;
  /** Whether the writer thread starts before a burst has all appended (see `acknowledged`). */
  private splitting = false;
  private commitMsEwma = 0.1;
  private jsMsPerGroupEwma = 0.001;
  private measuringJs = false;
  private acknowledgedAtMs = 0;
  private acknowledgedGroups = 1;

  /** `here` commits on the event loop; undefined when only the writer thread (or the inline loop) commits. */
  constructor(
    private readonly state: WriteState,
    private readonly here: Committer | undefined,
    private readonly host: PlacementHost,
  ) {}

  published(): void {
    // Splitting, the thread starts at once (its I/O overlaps the rest of the burst); otherwise
    // the commit waits for the end of this turn, where the event loop may make it itself.
    if (++this.publishedSinceAck >= this.wakeAtGroups && (this.here === undefined || this.splitting)) {
      this.state.ring.wakeCommitter();
    } else this.wakeSoon();
  }

  commitSoon(): void {
    this.wakeSoon();
  }

  /**
   * `groups` writers are about to be woken, and most will append again at once. If their
   * JavaScript costs less than a commit, the committer waits for all of them (one fsync for
   * everyone); if it costs more, it starts once only the first ones have appended, so that its
   * I/O overlaps the JavaScript of the rest.
   */
  acknowledged(groups: number): void {
    const commitMs = this.state.ring.stats[Stat.lastCommitMs] ?? this.commitMsEwma;
    this.commitMsEwma += EWMA_WEIGHT * (commitMs - this.commitMsEwma);
    const jsMs = groups * this.jsMsPerGroupEwma;
    this.splitting = jsMs > SPLIT_WHEN_JS_OVER_COMMIT * this.commitMsEwma;
    this.wakeAtGroups = this.splitting ? Math.max(1, Math.ceil(groups - this.commitMsEwma / this.jsMsPerGroupEwma)) : groups;
    this.publishedSinceAck = 0;
    if (!this.measuringJs) {
      this.measuringJs = true;
      this.acknowledgedAtMs = this.state.options.clock.monotonicMs();
      this.acknowledgedGroups = groups;
      setImmediate(this.measureJs);
    }
  }

  /** Runs once the woken writers' JavaScript has run: samples its cost per group. */
  private readonly measureJs = (): void => {
    this.measuringJs = false;
    const perGroupMs = (this.state.options.clock.monotonicMs() - this.acknowledgedAtMs) / this.acknowledgedGroups;
    this.jsMsPerGroupEwma += EWMA_WEIGHT * (perGroupMs - this.jsMsPerGroupEwma);
  };

  /** Commits once this turn of the event loop has appended all it will (at most one wake pending). */
  private wakeSoon(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(this.wakeNow);
  }

  /** The end of the turn: commits here, or wakes the writer thread (see the file's comment). */
  private readonly wakeNow = (): void => {
    this.wakeScheduled = false;
    const { here, state } = this;
    // Not "is the thread asleep?": the lock answers that, and a thread still starting would
    // otherwise hold up a new log's first commits.
    if (here === undefined || this.splitting || state.failure !== undefined) {
      state.ring.wakeCommitter();
      return;
    }
    here.commitHere().then(this.committedHere, this.failedHere);
  };

  private readonly committedHere = (committed: boolean): void => {
    const ring = this.state.ring;
    if (!committed) {
      ring.wakeCommitter();
      return;
    }
    this.host.poll();
    // One frame a turn: the rest of the groups (a frame is at most batchBytesMax) next turn,
    // unless a segment must start first (the rotation calls commitSoon once it is in place).
    const control = ring.control;
    if (
      Atomics.load(control, Control.state) === CommitterState.running &&
      Atomics.load(control, Control.published) !== Atomics.load(control, Control.written)
    ) {
      this.wakeSoon();
    }
  };

  private readonly failedHere = (error: unknown): void => this.host.fail(error);
}
