/**
 * The group-commit writer. Appends encode their records straight into the open batch buffer
 * and wait on the batch's promise. One flush runs at a time: it takes the whole batch, writes
 * it as one frame with one write, fdatasyncs it (sync `always`) and resolves every waiter.
 * Appends that arrive meanwhile fill the next batch, so under load batches grow by themselves
 * while an fsync is in flight, with no timer; alone, an append costs one write and one fsync.
 *
 * Invariants: LSNs are assigned at enqueue, contiguous, and frames are written in LSN order;
 * a frame is written only after the previous one is durable (sync `always`) so that at most
 * one frame is ever torn by a crash (recovery.ts relies on it); after any write or sync error
 * nothing is written or acknowledged again (fail-stop).
 */
import { assert } from "../assert.js";
import { errnoCode, LogbookError } from "../errors.js";
import { FRAME_HEADER_BYTES, LSN_MAX, recordBytes } from "./format.js";
import { encodeFrameHeader } from "./frame.js";
import type { ResolvedLogOptions } from "./options.js";
import { encodeRecord } from "./record.js";
import type { SegmentSet } from "./segments.js";

/** Weight of a new sample in the moving averages that steer dispatch. */
const EWMA_WEIGHT = 0.2;

export type WaitLevel = "written" | "durable";

export interface CommitInfo {
  firstLsn: number;
  lastLsn: number;
  records: number;
  bytes: number;
  /** Time of the write (and fdatasync, with sync `always`) of this frame. */
  durationMs: number;
  /** Whether this commit made its records durable (sync `always`). */
  durable: boolean;
}

export interface WriterHooks {
  onCommit(info: CommitInfo): void;
  onDurable(durableLsn: number): void;
  onFailure(error: LogbookError): void;
}

interface Batch {
  buffer: Uint8Array;
  view: DataView;
  /** Bytes used, the reserved frame header included. */
  bytes: number;
  firstLsn: number;
  count: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (error: LogbookError) => void;
}

interface Waiter {
  lsn: number;
  level: WaitLevel;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface WriterStats {
  appends: number;
  records: number;
  recordBytes: number;
  commits: number;
  fsyncs: number;
  commitMsTotal: number;
  commitMsMax: number;
  pendingBytes: number;
}

export class GroupCommitWriter {
  nextLsn: number;
  writtenLsn: number;
  durableLsn: number;
  failure: LogbookError | undefined;
  readonly stats: WriterStats = {
    appends: 0,
    records: 0,
    recordBytes: 0,
    commits: 0,
    fsyncs: 0,
    commitMsTotal: 0,
    commitMsMax: 0,
    pendingBytes: 0,
  };
  private open: Batch | undefined;
  private readonly sealed: Batch[] = [];
  /** Batch buffers, in SharedArrayBuffers so the writer thread reads them without a copy. */
  private readonly pool: Uint8Array[] = [];
  private waiters: Waiter[] = [];
  /** A commit or a sync is in flight (one at a time). */
  private busy = false;
  private scheduled = false;
  /** When idle, an open batch with this many records is dispatched at once (adaptive, see afterCommit). */
  private dispatchAtRecords = 1;
  private commitMsEwma = 0.1;
  private lastCommitMs = 0;
  private jsMsPerRecordEwma = 0.001;
  private measuring = false;
  private wokenAtMs = 0;
  private wokenRecords = 1;
  private syncRequested = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly segments: SegmentSet,
    private readonly options: ResolvedLogOptions,
    nextLsn: number,
    private readonly hooks: WriterHooks,
  ) {
    this.nextLsn = nextLsn;
    this.writtenLsn = nextLsn - 1;
    this.durableLsn = nextLsn - 1;
    if (options.sync === "interval") {
      this.timer = setInterval(() => this.requestSync(), options.syncIntervalMs);
      this.timer.unref();
    }
  }

  get lastLsn(): number {
    return this.nextLsn - 1;
  }

  /** The LSN up to which appends have been acknowledged under the sync mode. */
  get committedLsn(): number {
    return this.options.sync === "always" ? this.durableLsn : this.writtenLsn;
  }

  /** Sequences records into the open batch; the promise resolves when the batch is committed. */
  enqueue(payloads: readonly Uint8Array[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new LogbookError("LOGBOOK_CLOSED", "the log is closed");
    let total = 0;
    for (const payload of payloads) total += recordBytes(payload.byteLength);
    if (FRAME_HEADER_BYTES + total > this.options.batchBytesMax) {
      throw new LogbookError(
        "LOGBOOK_RECORD_TOO_LARGE",
        `${payloads.length === 1 ? "record" : "batch"} of ${total} bytes exceeds batchBytesMax ${this.options.batchBytesMax}`,
      );
    }
    if (this.stats.pendingBytes + total > this.options.pendingBytesMax) {
      throw new LogbookError(
        "LOGBOOK_OVERLOADED",
        `${this.stats.pendingBytes} bytes are waiting to be written; pendingBytesMax is ${this.options.pendingBytesMax}`,
      );
    }
    if (this.nextLsn + payloads.length > LSN_MAX) throw new LogbookError("LOGBOOK_INVALID_LSN", "LSNs are exhausted");
    let batch = this.open;
    if (batch === undefined || batch.bytes + total > this.options.batchBytesMax) {
      if (batch !== undefined) this.sealed.push(batch);
      batch = this.newBatch();
      this.open = batch;
    }
    for (const payload of payloads) {
      batch.bytes += encodeRecord(batch.buffer, batch.view, batch.bytes, this.nextLsn, payload);
      this.nextLsn++;
    }
    batch.count += payloads.length;
    this.stats.appends++;
    this.stats.records += payloads.length;
    this.stats.recordBytes += total;
    this.stats.pendingBytes += total;
    this.schedule(batch);
    return batch.done;
  }

  waitFor(lsn: number, level: WaitLevel): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if ((level === "durable" ? this.durableLsn : this.writtenLsn) >= lsn) return Promise.resolve();
    if (lsn > this.lastLsn) {
      return Promise.reject(new LogbookError("LOGBOOK_INVALID_LSN", `LSN ${lsn} has not been appended`, { lsn }));
    }
    if (level === "durable") this.requestSync();
    return new Promise((resolve, reject) => this.waiters.push({ lsn, level, resolve, reject }));
  }

  /** Commits everything appended so far, makes it durable, and refuses further appends. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.failure === undefined && this.lastLsn > this.durableLsn) {
      await this.waitFor(this.lastLsn, "durable").catch(() => undefined);
    }
    while (this.busy) await new Promise((resolve) => setImmediate(resolve));
  }

  requestSync(): void {
    this.syncRequested = true;
    this.dispatch();
  }

  private newBatch(): Batch {
    const buffer = this.pool.pop() ?? new Uint8Array(new SharedArrayBuffer(this.options.batchBytesMax));
    let resolve!: () => void;
    let reject!: (error: LogbookError) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A batch nobody awaits (all its appenders gave up) must not raise an unhandled rejection.
    done.catch(() => undefined);
    return {
      buffer,
      view: new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength),
      bytes: FRAME_HEADER_BYTES,
      firstLsn: this.nextLsn,
      count: 0,
      done,
      resolve,
      reject,
    };
  }

  /** Starts the next commit (or a requested sync) unless one is in flight. */
  private dispatch(): void {
    if (this.busy || this.failure !== undefined) return;
    if (this.syncRequested && this.durableLsn < this.writtenLsn) {
      // A requested sync goes before further batches, or steady load would starve it.
      this.busy = true;
      this.syncActive().then(this.afterSync, (error: unknown) => this.fail(error, undefined));
      return;
    }
    this.syncRequested = false;
    const batch = this.sealed.shift() ?? this.takeOpen();
    if (batch === undefined) return;
    this.busy = true;
    this.commit(batch).then(
      () => this.afterCommit(batch),
      (error: unknown) => this.fail(error, batch),
    );
  }

  private readonly afterSync = (): void => {
    this.busy = false;
    this.settleWaiters();
    this.dispatch();
  };

  private readonly onImmediate = (): void => {
    this.scheduled = false;
    this.dispatch();
  };

  /** Called by enqueue: dispatch now, or once this turn of the event loop has appended all it will. */
  private schedule(batch: Batch): void {
    if (this.busy) return;
    if (batch.count >= this.dispatchAtRecords || this.sealed.length > 0) {
      this.dispatch();
    } else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onImmediate);
    }
  }

  private takeOpen(): Batch | undefined {
    const batch = this.open;
    this.open = undefined;
    return batch;
  }

  private async commit(batch: Batch): Promise<void> {
    assert(batch.count >= 1, "a committed batch holds records");
    assert(batch.firstLsn === this.writtenLsn + 1, "frames are written in LSN order");
    encodeFrameHeader(batch.buffer, batch.view, 0, batch.bytes, batch.firstLsn, batch.count);
    if (!this.segments.fits(batch.bytes)) {
      await this.segments.rotate(batch.firstLsn);
      // Rotation fdatasyncs the old segment, so everything written before is durable now.
      this.advanceDurable(this.writtenLsn);
    }
    const durable = this.options.sync === "always";
    const startedMs = performance.now();
    await this.segments.handle.write(batch.buffer.subarray(0, batch.bytes), this.segments.writePosition, {
      datasync: durable,
    });
    const durationMs = performance.now() - startedMs;
    this.segments.advance(batch.bytes);
    this.writtenLsn = batch.firstLsn + batch.count - 1;
    if (durable) this.advanceDurable(this.writtenLsn);
    const stats = this.stats;
    stats.commits++;
    if (durable) stats.fsyncs++;
    stats.commitMsTotal += durationMs;
    if (durationMs > stats.commitMsMax) stats.commitMsMax = durationMs;
    stats.pendingBytes -= batch.bytes - FRAME_HEADER_BYTES;
    this.commitMsEwma += EWMA_WEIGHT * (durationMs - this.commitMsEwma);
    this.lastCommitMs = durationMs;
  }

  /**
   * A commit finished and its writers are about to be woken. If their JavaScript (appending
   * again, mostly) costs more than an I/O, the batch that filled meanwhile is dispatched first,
   * so its I/O overlaps with that JavaScript; and if none filled, the next dispatch happens
   * once only enough of them have appended that the rest take an I/O's time to follow. If
   * their JavaScript is cheap, the filled batch waits for them instead and all go in one
   * commit: one fsync for everyone, as at low concurrency. (bench/log.ts, c=256: this took
   * records/s from ~0.6 M to ~1 M; at c=16 splitting would halve the batch for no gain.)
   */
  private afterCommit(batch: Batch): void {
    this.busy = false;
    const records = batch.count;
    const wakeMs = records * this.jsMsPerRecordEwma;
    const waiting = (this.open?.count ?? 0) + this.sealed.length;
    if (wakeMs > this.commitMsEwma) {
      this.dispatchAtRecords = Math.max(1, Math.ceil(records - this.commitMsEwma / this.jsMsPerRecordEwma));
      if (waiting > 0) this.dispatch();
    } else {
      this.dispatchAtRecords = (this.open?.count ?? 0) + records;
      if (waiting > 0 && !this.scheduled) {
        this.scheduled = true;
        setImmediate(this.onImmediate);
      }
    }
    this.pool.push(batch.buffer);
    batch.resolve();
    this.settleWaiters();
    this.hooks.onCommit({
      firstLsn: batch.firstLsn,
      lastLsn: batch.firstLsn + records - 1,
      records,
      bytes: batch.bytes,
      durationMs: this.lastCommitMs,
      durable: this.options.sync === "always",
    });
    if (!this.measuring) {
      this.measuring = true;
      this.wokenAtMs = performance.now();
      this.wokenRecords = records;
      setImmediate(this.measureJs);
    }
  }

  /** Runs once the woken writers' JavaScript has run: samples its cost per record. */
  private readonly measureJs = (): void => {
    this.measuring = false;
    const perRecordMs = (performance.now() - this.wokenAtMs) / this.wokenRecords;
    this.jsMsPerRecordEwma += EWMA_WEIGHT * (perRecordMs - this.jsMsPerRecordEwma);
  };

  private async syncActive(): Promise<void> {
    const target = this.writtenLsn;
    await this.segments.handle.datasync();
    this.stats.fsyncs++;
    this.advanceDurable(target);
  }

  private advanceDurable(lsn: number): void {
    if (lsn <= this.durableLsn) return;
    this.durableLsn = lsn;
    this.hooks.onDurable(lsn);
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
  }

  /** Fail-stop: the log takes no more writes; whatever was not acknowledged never will be. */
  private fail(cause: unknown, inFlight: Batch | undefined): void {
    const code = errnoCode(cause);
    const error =
      cause instanceof LogbookError
        ? cause
        : code === "ENOSPC"
          ? new LogbookError("LOGBOOK_NO_SPACE", "the disk is full; the log is read-only until reopened", { cause })
          : new LogbookError(
              "LOGBOOK_LOG_FAILED",
              `a log write or sync failed (${code ?? "unknown error"}); the log is read-only until reopened`,
              {
                cause,
              },
            );
    this.failure = error;
    this.busy = false;
    if (this.timer !== undefined) clearInterval(this.timer);
    const pending = [inFlight, ...this.sealed.splice(0), this.takeOpen()];
    for (const batch of pending) batch?.reject(error);
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    this.stats.pendingBytes = 0;
    this.hooks.onFailure(error);
  }
}
