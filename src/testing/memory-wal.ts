/**
 * The memory log itself (memory-log.ts opens it, and keeps what it acknowledged by directory).
 */
import { LogbookError } from "../errors.js";
import type {
  CommitInfo,
  DamageReport,
  FollowOptions,
  LogRecord,
  LogStats,
  PayloadSource,
  RecordVisitor,
  WaitLevel,
  WalHooks,
  WriteAheadLog,
} from "../log/index.js";
import { checkSequenceInput } from "../log/index.js";

/** What survives a close or a crash: the acknowledged records of one directory. */
export interface StoredLog {
  /** Records from firstLsn on: records[i] has LSN firstLsn + i. */
  records: LogRecord[];
  firstLsn: number;
  /** The LSN of the last record kept (0: none ever). */
  lastLsn: number;
  /** The log open for writing here: a second writer is refused with LOGBOOK_LOCKED. */
  writer: MemoryLog | undefined;
}

const NO_DAMAGE: readonly DamageReport[] = Object.freeze([]);

interface Waiter {
  lsn: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class MemoryLog implements WriteAheadLog {
  readonly directory: string;
  readonly isReadOnly: boolean;
  private readonly stored: StoredLog;
  private readonly hooks: WalHooks;
  private readonly created: boolean;
  private readonly batchBytesMax: number;
  /** Sequenced, not yet durable: lost by a failure or a crash. */
  private pending: LogRecord[] = [];
  private nextLsn: number;
  private acknowledgedLsn: number;
  private waiters: Waiter[] = [];
  private changeWaiters: (() => void)[] = [];
  private commitScheduled = false;
  private held = false;
  private failNext: LogbookError | undefined;
  private failed: LogbookError | undefined;
  private closing: Promise<void> | undefined;
  private closed = false;
  private readonly counters = { appends: 0, records: 0, recordBytes: 0, commits: 0 };

  constructor(directory: string, stored: StoredLog, hooks: WalHooks, readOnly: boolean, created: boolean, batchBytesMax: number) {
    this.directory = directory;
    this.stored = stored;
    this.hooks = hooks;
    this.isReadOnly = readOnly;
    this.created = created;
    this.batchBytesMax = batchBytesMax;
    this.nextLsn = stored.lastLsn + 1;
    this.acknowledgedLsn = stored.lastLsn;
  }

  get firstLsn(): number {
    return this.stored.firstLsn;
  }

  get lastLsn(): number {
    return this.nextLsn - 1;
  }

  get committedLsn(): number {
    return this.acknowledgedLsn;
  }

  get durableLsn(): number {
    return this.acknowledgedLsn;
  }

  get appendedBytes(): number {
    return this.counters.recordBytes;
  }

  get failure(): LogbookError | undefined {
    return this.failed;
  }

  get skipped(): readonly DamageReport[] {
    return NO_DAMAGE;
  }

  sequence(records: readonly Uint8Array[] | PayloadSource): number {
    checkSequenceInput(records);
    this.checkWritable();
    const group = Array.isArray(records) ? (records as readonly Uint8Array[]) : undefined;
    const bytes = group?.reduce((sum, payload) => sum + payload.byteLength, 0) ?? (records as PayloadSource).payloadBytes;
    if (bytes > this.batchBytesMax) {
      throw new LogbookError("LOGBOOK_RECORD_TOO_LARGE", `a group of ${bytes} bytes exceeds batchBytesMax ${this.batchBytesMax}`);
    }
    // Copies, as the local log copies into its buffer: the caller may reuse its arrays at once.
    const payloads = group?.map((payload) => payload.slice()) ?? [this.ownCopy(records as PayloadSource)];
    const firstLsn = this.nextLsn;
    for (const payload of payloads) this.pending.push({ lsn: this.nextLsn++, payload });
    this.counters.appends++;
    this.counters.records += payloads.length;
    this.counters.recordBytes += bytes;
    this.scheduleCommit();
    return firstLsn;
  }

  async visitRecords(options: FollowOptions, visit: RecordVisitor): Promise<void> {
    const from = this.startOf(options.from);
    const upTo = this.acknowledgedLsn;
    for (let lsn = from; lsn <= upTo; lsn++) {
      if (options.signal?.aborted) throw aborted(options.signal);
      const { payload } = this.recordAt(lsn);
      visit(lsn, payload, 0, payload.byteLength);
    }
  }

  async *follow(options: FollowOptions): AsyncGenerator<LogRecord[]> {
    let next = this.startOf(options.from);
    for (;;) {
      if (options.signal?.aborted) throw aborted(options.signal);
      if (next <= this.acknowledgedLsn) {
        const batch: LogRecord[] = [];
        for (; next <= this.acknowledgedLsn; next++) batch.push({ lsn: next, payload: this.recordAt(next).payload.slice() });
        yield batch;
        continue;
      }
      if (this.failed !== undefined) throw this.failed;
      if (this.closed) return;
      await this.nextChange(options.signal);
    }
  }

  async truncateBefore(lsn: number): Promise<number> {
    if (!Number.isSafeInteger(lsn) || lsn < 0) {
      throw new LogbookError("LOGBOOK_INVALID_LSN", `truncateBefore takes a non-negative integer LSN, got ${String(lsn)}`);
    }
    if (this.isReadOnly) throw this.readOnlyError();
    if (this.closing !== undefined) throw new LogbookError("LOGBOOK_CLOSED", "the log is closed");
    if (lsn > this.durableLsn + 1) {
      throw new LogbookError("LOGBOOK_INVALID_LSN", `cannot truncate before ${lsn}: only up to ${this.durableLsn} is durable`, {
        lsn,
      });
    }
    const freed = Math.max(0, lsn - this.stored.firstLsn);
    this.stored.records.splice(0, freed);
    this.stored.firstLsn += freed;
    return freed;
  }

  waitFor(lsn: number, level: WaitLevel): Promise<void> {
    if (typeof lsn !== "number") return Promise.reject(new TypeError("lsn must be a number"));
    if (level !== "written" && level !== "durable") return Promise.reject(new TypeError("level must be written or durable"));
    if (!Number.isSafeInteger(lsn) || lsn < 0)
      return Promise.reject(new LogbookError("LOGBOOK_INVALID_LSN", `not an LSN: ${lsn}`, { lsn }));
    if (this.closing !== undefined) return Promise.reject(new LogbookError("LOGBOOK_CLOSED", "the log is closed"));
    if (this.isReadOnly) return lsn <= this.lastLsn ? Promise.resolve() : Promise.reject(this.readOnlyError());
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (lsn <= this.acknowledgedLsn) return Promise.resolve();
    if (lsn > this.lastLsn)
      return Promise.reject(new LogbookError("LOGBOOK_INVALID_LSN", `LSN ${lsn} has not been appended`, { lsn }));
    return new Promise<void>((resolve, reject) => this.waiters.push({ lsn, resolve, reject }));
  }

  stats(): LogStats {
    const { appends, records, recordBytes, commits } = this.counters;
    return {
      logId: `memory:${this.directory}`,
      sync: "always",
      firstLsn: this.firstLsn,
      lastLsn: this.lastLsn,
      writtenLsn: this.acknowledgedLsn,
      durableLsn: this.acknowledgedLsn,
      appends,
      records,
      recordBytes,
      commits,
      commitsOnEventLoop: commits,
      fsyncs: commits,
      recordsPerCommit: commits === 0 ? 0 : records / commits,
      commitMsMean: 0,
      commitMsMax: 0,
      pendingBytes: this.pending.reduce((sum, record) => sum + record.payload.byteLength, 0),
      segments: 0,
      spareSegmentReady: false,
      rotations: 0,
      segmentsTruncated: 0,
      diskBytes: 0,
      failed: this.failed !== undefined,
      failureCode: this.failed?.code,
      recovery: {
        mode: "tolerate-tail",
        created: this.created,
        segments: 0,
        firstLsn: this.firstLsn,
        lastLsn: this.stored.lastLsn,
        scannedBytes: 0,
        durationMs: 0,
        skipped: [],
        setAside: [],
      },
    };
  }

  /** Acknowledges what was sequenced (unless failed or crashed), then closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Acknowledgement waits from now on, as behind an fdatasync that does not return. */
  hold(): void {
    this.held = true;
  }

  /** Lets acknowledgement go on; with `fail`, the held writes fail as on EIO instead. */
  release(fail = false): void {
    this.held = false;
    if (fail) this.injectFailure();
    this.scheduleCommit();
  }

  /** The next commit fails with `error` (default LOGBOOK_LOG_FAILED): nothing pending is ever acknowledged. */
  injectFailure(error?: LogbookError): void {
    this.failNext = error ?? new LogbookError("LOGBOOK_LOG_FAILED", `the memory log in ${this.directory} failed (injected)`);
    this.scheduleCommit();
  }

  /**
   * The process dies: no hook is called again, waits reject with LOGBOOK_CLOSED, and the
   * writes not acknowledged are lost (`keep: "none"`) or found by the next open (`"all"`).
   */
  crash(keep: "none" | "all" = "none"): void {
    if (this.closed) return;
    if (keep === "all" && this.failed === undefined) this.makeDurable();
    this.pending = [];
    this.closed = true;
    this.closing ??= Promise.resolve();
    this.stored.writer = undefined;
    this.rejectWaiters(new LogbookError("LOGBOOK_CLOSED", "the log is closed"));
    this.signalChange();
  }

  private async closeOnce(): Promise<void> {
    if (!this.closed && this.failed === undefined) {
      // The last commit comes at a later turn, as every commit does, never from inside close().
      this.held = false;
      await new Promise<void>((resolve) => setImmediate(resolve));
      this.commit();
    }
    this.closed = true;
    if (!this.isReadOnly && this.stored.writer === this) this.stored.writer = undefined;
    this.signalChange();
  }

  private scheduleCommit(): void {
    if (this.commitScheduled || this.closed) return;
    this.commitScheduled = true;
    setImmediate(() => {
      this.commitScheduled = false;
      if (this.closed) return;
      if (this.failNext !== undefined) this.fail(this.failNext);
      else if (!this.held) this.commit();
    });
  }

  /** The group commit: every pending record becomes durable, then the owner is told, then waiters. */
  private commit(): void {
    if (this.pending.length === 0 || this.failed !== undefined) return;
    const info: CommitInfo = {
      firstLsn: this.acknowledgedLsn + 1,
      lastLsn: this.makeDurable(),
      records: 0,
      durationMs: 0,
      fsyncMs: 0,
      durable: true,
    };
    info.records = info.lastLsn - info.firstLsn + 1;
    this.acknowledgedLsn = info.lastLsn;
    this.counters.commits++;
    this.hooks.onCommit(info);
    const waiting = this.waiters;
    this.waiters = waiting.filter((waiter) => waiter.lsn > info.lastLsn);
    for (const waiter of waiting) if (waiter.lsn <= info.lastLsn) waiter.resolve();
    this.signalChange();
  }

  /** Moves the pending records to the directory (where a reopen finds them); returns the last LSN. */
  private makeDurable(): number {
    for (const record of this.pending) this.stored.records.push(record);
    this.stored.lastLsn = this.lastLsn;
    this.pending = [];
    return this.stored.lastLsn;
  }

  private fail(error: LogbookError): void {
    this.failNext = undefined;
    this.failed = error;
    this.pending = [];
    this.rejectWaiters(error);
    this.hooks.onFailure(error);
    this.signalChange();
  }

  private checkWritable(): void {
    if (this.isReadOnly) throw this.readOnlyError();
    if (this.failed !== undefined) throw this.failed;
    if (this.closing !== undefined) throw new LogbookError("LOGBOOK_CLOSED", "the log is closed");
  }

  private ownCopy(source: PayloadSource): Uint8Array {
    const payload = new Uint8Array(source.payloadBytes);
    source.writePayload(payload, 0);
    return payload;
  }

  /** The first LSN a read from `from` returns, checked as the local log's reader checks it. */
  private startOf(from: number | undefined): number {
    const first = this.stored.firstLsn;
    if (from === undefined || from === 0) return first;
    if (!Number.isSafeInteger(from) || from < 0) {
      throw new LogbookError("LOGBOOK_INVALID_LSN", `from must be a non-negative integer LSN, got ${String(from)}`);
    }
    if (from < first)
      throw new LogbookError("LOGBOOK_TRUNCATED", `LSN ${from} was truncated; the log starts at ${first}`, { lsn: from });
    return from;
  }

  private recordAt(lsn: number): LogRecord {
    const record = this.stored.records[lsn - this.stored.firstLsn];
    if (record === undefined) throw new LogbookError("LOGBOOK_TRUNCATED", `LSN ${lsn} is no longer in the log`, { lsn });
    return record;
  }

  private rejectWaiters(error: unknown): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) waiter.reject(error);
  }

  private signalChange(): void {
    const waiting = this.changeWaiters;
    this.changeWaiters = [];
    for (const wake of waiting) wake();
  }

  private nextChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(aborted(signal as AbortSignal));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.changeWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  private readOnlyError(): LogbookError {
    return new LogbookError("LOGBOOK_READ_ONLY", `the log in ${this.directory} is open read-only`);
  }
}

function aborted(signal: AbortSignal): LogbookError {
  return new LogbookError("LOGBOOK_ABORTED", "reading was aborted", { cause: signal.reason });
}
