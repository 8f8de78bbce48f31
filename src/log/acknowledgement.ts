/**
 * Stage 4 of a write, acknowledgement and fail-stop: the last stage. Previous stage: the
 * committer (committer.ts), which publishes in the control words how far it got and bumps the
 * `event` word. This side watches that word, then resolves the groups in LSN order (on
 * `written` or, with sync `always`, on `durable`), tells the log through its hooks, settles the
 * waiters of `waitFor`, publishes appends waiting for ring space (sequencer.ts), starts a new
 * segment when the committer asks for one, and owns fail-stop.
 *
 * Invariants: a group is acknowledged only once the committer has counted it written (durable
 * with sync `always`), and groups are acknowledged oldest first; after any write or sync error,
 * every pending and later append rejects with the same error and nothing more is written.
 */
import type { Worker } from "node:worker_threads";
import { errnoCode, LogbookError } from "../errors.js";
import type { Timer } from "../io/index.js";
import type { CommitPlacement, PlacementHost } from "./commit-placement.js";
import { Command, CommitterState, Control, Stat } from "./commit-ring.js";
import type { WaitLevel } from "./contract.js";
import { SEGMENT_HEADER_BYTES } from "./format.js";
import type { Sequencer } from "./sequencer.js";
import type { WriteState } from "./write-state.js";

interface Waiter {
  lsn: number;
  level: WaitLevel;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class Acknowledgement implements PlacementHost {
  writtenLsn: number;
  durableLsn: number;
  /** The control word acknowledgements follow: `written`, or `durable` with sync `always`. */
  private readonly acknowledgeWhen: number;
  /** Groups acknowledged so far (a wrapping Int32 sequence, as the ring's counters). */
  private acknowledged = 0;
  private eventSeen = 0;
  private watching = false;
  private waiters: Waiter[] = [];
  private rotating = false;
  private stopped: (() => void) | undefined;
  /** Whether the worker keeps the process alive (ref), so that watch() need not call into it per append. */
  private workerHeld = false;
  private readonly timer: Timer | undefined;
  private sequencer: Sequencer | undefined;
  private placement: CommitPlacement | undefined;

  /** `worker` is the writer thread, if any; the sync timer of sync `interval` starts here. */
  constructor(
    private readonly state: WriteState,
    nextLsn: number,
    private readonly worker: Worker | undefined,
  ) {
    this.writtenLsn = nextLsn - 1;
    this.durableLsn = nextLsn - 1;
    const options = state.options;
    this.acknowledgeWhen = options.sync === "always" ? Control.durable : Control.written;
    if (options.sync === "interval") {
      this.timer = options.clock.every(options.syncIntervalMs, () => this.requestSync());
    }
  }

  /** Completes the wiring: the stages this one hands work back to (writer.ts builds them after it). */
  connect(sequencer: Sequencer, placement: CommitPlacement): void {
    this.sequencer = sequencer;
    this.placement = placement;
  }

  /** Resolves once `lsn` is written or durable (`level`); rejects on failure. */
  waitFor(lsn: number, level: WaitLevel): Promise<void> {
    const failure = this.state.failure;
    if (failure !== undefined) return Promise.reject(failure);
    if ((level === "durable" ? this.durableLsn : this.writtenLsn) >= lsn) return Promise.resolve();
    if (lsn > (this.sequencer as Sequencer).nextLsn - 1) {
      return Promise.reject(new LogbookError("LOGBOOK_INVALID_LSN", `LSN ${lsn} has not been appended`, { lsn }));
    }
    const waiting = new Promise<void>((resolve, reject) => this.waiters.push({ lsn, level, resolve, reject }));
    if (level === "durable") this.requestSync();
    this.watch();
    return waiting;
  }

  /** Asks the committer to fdatasync what it has written (sync `interval` and `none`). */
  requestSync(): void {
    if (this.state.failure !== undefined || this.state.options.sync === "always") return;
    const ring = this.state.ring;
    Atomics.store(ring.control, Control.command, Command.sync);
    ring.wakeCommitter();
    this.watch();
  }

  /** Makes everything up to `lastLsn` durable, then stops the committer (close). */
  async stop(lastLsn: number): Promise<void> {
    this.timer?.cancel();
    if (this.state.failure === undefined && lastLsn > this.durableLsn) {
      await this.waitFor(lastLsn, "durable").catch(() => undefined);
    }
    if (this.state.failure === undefined) {
      const stopped = new Promise<void>((resolve) => {
        this.stopped = resolve;
      });
      const ring = this.state.ring;
      Atomics.store(ring.control, Control.command, Command.stop);
      ring.wakeCommitter();
      this.watch();
      await stopped;
    }
    this.holdWorker(true);
  }

  /** Makes sure the committer's next event will be handled. */
  watch(): void {
    if (this.state.failure !== undefined) return;
    // Held even when already watching: poll may have let go of it under a waitAsync still pending.
    this.holdWorker(true);
    if (this.watching) return;
    this.watching = true;
    const wait = Atomics.waitAsync(this.state.ring.control, Control.event, this.eventSeen);
    if (wait.async) void wait.value.then(this.onEvent);
    else queueMicrotask(this.onEvent);
  }

  private readonly onEvent = (): void => {
    this.watching = false;
    this.poll();
  };

  /** Takes in what the committer did: acknowledgements, rotation, failure, stop. */
  poll(): void {
    const state = this.state;
    if (state.failure !== undefined) return;
    const ring = state.ring;
    const control = ring.control;
    this.eventSeen = Atomics.load(control, Control.event);
    const committerState = Atomics.load(control, Control.state);
    if (committerState === CommitterState.failed) {
      this.fail(this.committerError());
      return;
    }
    const writtenLsn = ring.readLsn(Control.writtenLsnLow);
    if (writtenLsn > this.writtenLsn) this.writtenLsn = writtenLsn;
    const durableLsn = ring.readLsn(Control.durableLsnLow);
    if (durableLsn > this.durableLsn) {
      this.durableLsn = durableLsn;
      state.hooks.onDurable(durableLsn);
    }
    this.acknowledge(Atomics.load(control, this.acknowledgeWhen));
    state.segments.noteActiveBytes(ring.readPosition());
    this.settleWaiters();
    (this.sequencer as Sequencer).drainOverflow();
    if (committerState === CommitterState.needsSegment && !this.rotating) this.rotate();
    if (committerState === CommitterState.stopped) {
      this.stopped?.();
      this.holdWorker(false);
      return;
    }
    const busy =
      state.pending.length > 0 ||
      state.overflow.length > 0 ||
      this.rotating ||
      this.waiters.length > 0 ||
      this.stopped !== undefined ||
      Atomics.load(control, Control.command) !== Command.none;
    if (busy) this.watch();
    else this.holdWorker(false);
  }

  /** Refs or unrefs the writer thread, calling into it only when that changes. */
  holdWorker(held: boolean): void {
    if (this.workerHeld === held) return;
    this.workerHeld = held;
    if (held) this.worker?.ref();
    else this.worker?.unref();
  }

  /** Resolves every group up to sequence `upTo`, oldest first, and tells the log once. */
  private acknowledge(upTo: number): void {
    let count = (upTo - this.acknowledged) | 0;
    if (count <= 0) return;
    this.acknowledged = upTo;
    (this.placement as CommitPlacement).acknowledged(count);
    const state = this.state;
    const pending = state.pending;
    let first = 0;
    let last = 0;
    let records = 0;
    while (count-- > 0 && pending.length > 0) {
      const firstLsn = pending.oldestFirstLsn;
      if (first === 0) first = firstLsn;
      last = pending.oldestLastLsn;
      records += last - firstLsn + 1;
      state.pendingBytes -= pending.oldestBytes;
      pending.shift()(firstLsn);
    }
    if (records > 0) {
      const stats = state.ring.stats;
      state.hooks.onCommit({
        firstLsn: first,
        lastLsn: last,
        records,
        durationMs: stats[Stat.lastCommitMs] ?? 0,
        fsyncMs: stats[Stat.lastFsyncMs] ?? 0,
        durable: state.options.sync === "always",
      });
    }
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      const reached = waiter.level === "durable" ? this.durableLsn : this.writtenLsn;
      if (reached >= waiter.lsn) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
    if (this.waiters.some((w) => w.level === "durable" && w.lsn <= this.writtenLsn)) this.requestSync();
  }

  /**
   * Starts a new segment for the committer, which waits meanwhile (state `needsSegment`), then
   * hands it over through the control words: its descriptor, frame seed and write position.
   */
  private rotate(): void {
    this.rotating = true;
    const { ring, segments } = this.state;
    segments.rotate(ring.readLsn(Control.rotateLsnLow)).then(
      () => {
        this.rotating = false;
        if (this.state.failure !== undefined) return;
        const control = ring.control;
        // Rotation fdatasynced the old segment: everything written is durable now.
        ring.writeLsn(Control.durableLsnLow, ring.readLsn(Control.writtenLsnLow));
        Atomics.store(control, Control.durable, Atomics.load(control, Control.written));
        Atomics.store(control, Control.fd, segments.handle.descriptor ?? -1);
        Atomics.store(control, Control.frameSeed, segments.activeFrameSeed | 0);
        ring.writePosition(SEGMENT_HEADER_BYTES);
        Atomics.compareExchange(control, Control.state, CommitterState.needsSegment, CommitterState.running);
        Atomics.notify(control, Control.state);
        Atomics.add(control, Control.event, 1);
        // Whoever asked for the segment, the groups that did not fit are still to be committed.
        if (this.state.pending.length > 0) (this.placement as CommitPlacement).commitSoon();
        this.watch();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** The error the committer recorded in the ring when it failed (it may be on another thread). */
  private committerError(): Error {
    const ring = this.state.ring;
    try {
      const parsed = JSON.parse(ring.readError()) as { code?: string; syscall?: string; message?: string };
      const error = new Error(parsed.message ?? "the writer thread failed") as NodeJS.ErrnoException;
      if (parsed.code !== undefined) error.code = parsed.code;
      if (parsed.syscall !== undefined) error.syscall = parsed.syscall;
      return error;
    } catch {
      return new Error(ring.readError());
    }
  }

  /** Fail-stop: the log takes no more writes; whatever was not acknowledged never will be. */
  fail(cause: unknown): void {
    const state = this.state;
    if (state.failure !== undefined) return;
    const error = failureError(cause);
    state.failure = error;
    const control = state.ring.control;
    // A committer that is still running must not write another byte.
    Atomics.store(control, Control.state, CommitterState.failed);
    Atomics.notify(control, Control.state);
    Atomics.add(control, Control.wake, 1);
    Atomics.notify(control, Control.wake);
    this.timer?.cancel();
    for (const reject of state.pending.drainRejecters()) reject(error);
    for (const item of state.overflow.drain()) item.reject(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    state.pendingBytes = 0;
    this.stopped?.();
    this.holdWorker(false);
    state.hooks.onFailure(error);
  }
}

/** The typed error a failed write or sync becomes. */
function failureError(cause: unknown): LogbookError {
  const code = errnoCode(cause);
  if (cause instanceof LogbookError) return cause;
  if (code === "ENOSPC") {
    return new LogbookError("LOGBOOK_NO_SPACE", "the disk is full; the log is read-only until reopened", { cause });
  }
  return new LogbookError(
    "LOGBOOK_LOG_FAILED",
    `a log write or sync failed (${code ?? "unknown error"}); the log is read-only until reopened`,
    { cause },
  );
}
