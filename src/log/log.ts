/**
 * The write-ahead log as an application uses it (re-exported by the front door, index.ts). Open
 * recovers what is on disk, then appends go through the group-commit writer and reads through
 * the checked reader. openLogWithHooks opens one for the WriteAheadLog seam (local-wal.ts).
 */
import { EventEmitter } from "node:events";
import { resolve as resolvePath } from "node:path";
import { asDiskError, errnoCode, LogbookError } from "../errors.js";
import type { DirectoryLock, FileSystem } from "../io/index.js";
import { NodeFileSystem } from "../io/index.js";
import type { CommitInfo, LogRecord, LogStats, RecordVisitor, WaitLevel, WalHooks } from "./contract.js";
import { type LogOptions, payloadBytesMax, type ResolvedLogOptions, resolveLogOptions } from "./options.js";
import { type ReadBatchesOptions, type ReadOptions, type ReadSource, readFrames } from "./reader.js";
import { type DamageReport, type RecoveredLog, type RecoveryReport, recoverLog } from "./recovery.js";
import { formatLogId } from "./segment-header.js";
import { type SegmentInfo, SegmentSet } from "./segments.js";
import { GroupCommitWriter } from "./writer.js";

export type { LogStats };

export interface LogEvents {
  commit: [CommitInfo];
  durable: [number];
  failure: [LogbookError];
}

function checkPayload(payload: unknown): asserts payload is Uint8Array {
  if (!(payload instanceof Uint8Array)) throw new TypeError("a log payload must be a Uint8Array");
}

/** A log as opened, with the writer the seam sequences through (local-wal.ts); no writer when read-only. */
export interface OpenedLog {
  log: Log;
  writer: GroupCommitWriter | undefined;
}

/** Log's constructor, private to the class: set by its static block, called by openLogWithHooks only. */
let build: (
  path: string,
  options: ResolvedLogOptions,
  fs: FileSystem,
  ownsFileSystem: boolean,
  lock: DirectoryLock | undefined,
  recovered: RecoveredLog,
  hooks: WalHooks | undefined,
) => OpenedLog;

export class Log extends EventEmitter<LogEvents> implements AsyncDisposable {
  readonly directory: string;
  readonly options: ResolvedLogOptions;
  /** The largest payload a single append accepts. */
  readonly payloadBytesMax: number;
  private readonly fs: FileSystem;
  private readonly ownsFileSystem: boolean;
  private readonly lock: DirectoryLock | undefined;
  private readonly segmentSet: SegmentSet | undefined;
  private readonly staticSegments: SegmentInfo[];
  private readonly writer: GroupCommitWriter | undefined;
  private readonly recoveryReport: RecoveryReport;
  private readonly logIdHex: string;
  private changeWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;
  private closed = false;
  private segmentsTruncated = 0;

  private constructor(
    directory: string,
    options: ResolvedLogOptions,
    fs: FileSystem,
    ownsFileSystem: boolean,
    lock: DirectoryLock | undefined,
    recovered: RecoveredLog,
    hooks: WalHooks | undefined,
  ) {
    super();
    this.directory = directory;
    this.options = options;
    this.payloadBytesMax = payloadBytesMax(options.batchBytesMax);
    this.fs = fs;
    this.ownsFileSystem = ownsFileSystem;
    this.lock = lock;
    this.recoveryReport = recovered.report;
    this.logIdHex = formatLogId(recovered.logId);
    this.staticSegments = recovered.segments;
    if (options.readOnly) return;
    this.segmentSet = new SegmentSet(
      {
        fs,
        directory,
        logId: recovered.logId,
        segmentBytes: options.segmentBytes,
        preallocate: options.preallocate,
        clock: options.clock,
      },
      recovered.segments,
      recovered.activeHandle,
      recovered.activeFrameSeed,
      recovered.spareOnDisk,
    );
    this.writer = new GroupCommitWriter(this.segmentSet, options, recovered.nextLsn, recovered.tailPosition, {
      // The owner's hooks hear of a commit or a failure before any listener of the public events.
      onCommit: (info) => {
        hooks?.onCommit(info);
        if (this.listenerCount("commit") > 0) this.emit("commit", info);
        this.signalChange();
      },
      onDurable: (lsn) => {
        if (this.listenerCount("durable") > 0) this.emit("durable", lsn);
        this.signalChange();
      },
      onFailure: (error) => {
        hooks?.onFailure(error);
        if (this.listenerCount("failure") > 0) this.emit("failure", error);
        this.signalChange();
      },
    });
  }

  /**
   * Opens (or creates) the log in `directory`, recovering it first: a torn tail is cut
   * (and kept aside), any other damage refuses the open with LOGBOOK_CORRUPTION, per `recovery`.
   */
  static async open(directory: string, options: LogOptions = {}): Promise<Log> {
    return (await openLogWithHooks(directory, options, undefined)).log;
  }

  static {
    build = (path, options, fs, ownsFileSystem, lock, recovered, hooks) => {
      const log = new Log(path, options, fs, ownsFileSystem, lock, recovered, hooks);
      return { log, writer: log.writer };
    };
  }

  /** Appends one record; resolves with its LSN once it is durable under the sync mode. */
  append(payload: Uint8Array): Promise<number> {
    try {
      checkPayload(payload);
      return this.requireWriter().append([payload]);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Appends records atomically: after a crash, all of them are in the log or none is. */
  async appendBatch(payloads: readonly Uint8Array[]): Promise<number[]> {
    if (!Array.isArray(payloads)) throw new TypeError("appendBatch takes an array of Uint8Array");
    for (const payload of payloads) checkPayload(payload);
    if (payloads.length === 0) return [];
    const first = await this.requireWriter().append(payloads);
    return Array.from({ length: payloads.length }, (_, i) => first + i);
  }

  /** Every committed record from `from` (default: the oldest kept), in LSN order. */
  async *read(options: ReadOptions = {}): AsyncGenerator<LogRecord> {
    for await (const records of readFrames(this.readSource(), options.from, false, options.signal)) yield* records;
  }

  /** Like `read`, then follows new commits until `signal` aborts (LOGBOOK_ABORTED) or the log closes. */
  async *tail(options: ReadOptions = {}): AsyncGenerator<LogRecord> {
    for await (const records of readFrames(this.readSource(), options.from, true, options.signal)) yield* records;
  }

  /** Frame by frame: as `read` (or as `tail`, with `follow`), with fewer awaits per record. */
  readBatches(options: ReadBatchesOptions = {}): AsyncGenerator<LogRecord[]> {
    return readFrames(this.readSource(), options.from, options.follow ?? false, options.signal, options.copyPayloads ?? true);
  }

  /**
   * As `read`, but each record's payload is handed to `visit` in place (bytes[start, end),
   * valid only during the call), with no object made per record: for replaying millions of
   * records, where those objects were much of the garbage. Resolves once the visitor has seen
   * every committed record from `options.from`.
   */
  async visitRecords(options: ReadOptions, visit: RecordVisitor): Promise<void> {
    for await (const _ of readFrames(this.readSource(), options.from, false, options.signal, false, visit)) {
      // The visitor has done the work; awaiting here lets reads of the next frames proceed.
    }
  }

  /**
   * Frees whole segments whose records all precede `lsn` (call it after a checkpoint covers
   * them). The segment being written is never freed, and LSNs are never reused. Resolves the
   * number of segments freed.
   */
  async truncateBefore(lsn: number): Promise<number> {
    if (!Number.isSafeInteger(lsn) || lsn < 0) {
      throw new LogbookError("LOGBOOK_INVALID_LSN", `truncateBefore takes a non-negative integer LSN, got ${String(lsn)}`);
    }
    const writer = this.requireWriter();
    if (lsn > writer.durableLsn + 1) {
      throw new LogbookError("LOGBOOK_INVALID_LSN", `cannot truncate before ${lsn}: only up to ${writer.durableLsn} is durable`, {
        lsn,
      });
    }
    let removed: number;
    try {
      removed = await (this.segmentSet as SegmentSet).truncateBefore(lsn);
    } catch (error) {
      // Typed like every disk error; the segments left on disk are counted in again at the next open.
      throw asDiskError(error, `truncating the log before LSN ${lsn} failed`, { lsn });
    }
    this.segmentsTruncated += removed;
    return removed;
  }

  /**
   * Resolves once `lsn` is written to the OS or durable; with `durable` it also starts an
   * fdatasync. Rejects with LOGBOOK_INVALID_LSN for an LSN never sequenced, with LOGBOOK_CLOSED
   * once close() has been called (waits made before it resolve: close makes everything durable),
   * and with the log's failure once it has failed.
   */
  waitFor(lsn: number, level: WaitLevel = "durable"): Promise<void> {
    if (typeof lsn !== "number") return Promise.reject(new TypeError("lsn must be a number"));
    if (level !== "written" && level !== "durable") return Promise.reject(new TypeError("level must be written or durable"));
    if (!Number.isSafeInteger(lsn) || lsn < 0) {
      return Promise.reject(new LogbookError("LOGBOOK_INVALID_LSN", `not an LSN: ${lsn}`, { lsn }));
    }
    if (this.closing !== undefined) return Promise.reject(new LogbookError("LOGBOOK_CLOSED", "the log is closed"));
    if (this.writer === undefined) return lsn <= this.lastLsn ? Promise.resolve() : Promise.reject(this.readOnlyError());
    return this.writer.waitFor(lsn, level);
  }

  /** Makes everything appended so far durable. */
  sync(): Promise<void> {
    return this.waitFor(this.lastLsn, "durable");
  }

  get id(): string {
    return this.logIdHex;
  }

  get firstLsn(): number {
    return this.segments()[0]?.firstLsn ?? 1;
  }

  /** The last LSN handed out. */
  get lastLsn(): number {
    return this.writer?.lastLsn ?? this.recoveryReport.lastLsn;
  }

  /** The last LSN written to the OS. */
  get writtenLsn(): number {
    return this.writer?.writtenLsn ?? this.recoveryReport.lastLsn;
  }

  /** The last LSN made durable by fdatasync. */
  get durableLsn(): number {
    return this.writer?.durableLsn ?? this.recoveryReport.lastLsn;
  }

  /** The last LSN acknowledged under the sync mode: readers see records up to here. */
  get committedLsn(): number {
    return this.writer?.committedLsn ?? this.recoveryReport.lastLsn;
  }

  /** Bytes of records appended since open (framing excluded): what checkpoint policies count. */
  get appendedBytes(): number {
    return this.writer?.recordBytes ?? 0;
  }

  get recovery(): RecoveryReport {
    return this.recoveryReport;
  }

  /** The failure that stopped the log, if any. */
  get failure(): LogbookError | undefined {
    return this.writer?.failure;
  }

  get isReadOnly(): boolean {
    return this.writer === undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  stats(): LogStats {
    const w = this.writer?.stats;
    const commits = w?.commits ?? 0;
    return {
      logId: this.logIdHex,
      sync: this.options.sync,
      firstLsn: this.firstLsn,
      lastLsn: this.lastLsn,
      writtenLsn: this.writtenLsn,
      durableLsn: this.durableLsn,
      appends: w?.appends ?? 0,
      records: w?.records ?? 0,
      recordBytes: w?.recordBytes ?? 0,
      commits,
      commitsOnEventLoop: w?.commitsOnEventLoop ?? 0,
      fsyncs: w?.fsyncs ?? 0,
      recordsPerCommit: commits === 0 ? 0 : (w?.records ?? 0) / commits,
      commitMsMean: commits === 0 ? 0 : (w?.commitMsTotal ?? 0) / commits,
      commitMsMax: w?.commitMsMax ?? 0,
      pendingBytes: w?.pendingBytes ?? 0,
      segments: this.segments().length,
      spareSegmentReady: this.segmentSet?.spareReady ?? false,
      rotations: this.segmentSet?.rotations ?? 0,
      segmentsTruncated: this.segmentsTruncated,
      diskBytes: (this.segments().length + (this.segmentSet?.spareReady ? 1 : 0)) * this.options.segmentBytes,
      failed: this.writer?.failure !== undefined,
      failureCode: this.writer?.failure?.code,
      recovery: this.recoveryReport,
    };
  }

  segments(): readonly SegmentInfo[] {
    return this.segmentSet?.segments ?? this.staticSegments;
  }

  /** Commits and syncs what was appended, then releases the files and the lock. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async closeOnce(): Promise<void> {
    try {
      await this.writer?.close();
      await this.segmentSet?.close();
    } finally {
      this.closed = true;
      this.signalChange();
      await this.lock?.release();
      if (this.ownsFileSystem) await this.fs.close?.();
    }
  }

  private requireWriter(): GroupCommitWriter {
    if (this.writer === undefined) throw this.readOnlyError();
    if (this.closing !== undefined) throw new LogbookError("LOGBOOK_CLOSED", "the log is closed");
    return this.writer;
  }

  private readOnlyError(): LogbookError {
    return new LogbookError("LOGBOOK_READ_ONLY", `the log in ${this.directory} is open read-only`);
  }

  private signalChange(): void {
    if (this.changeWaiters.length === 0) return;
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const wake of waiters) wake();
  }

  private readSource(): ReadSource {
    return {
      fs: this.fs,
      salvage: this.options.recovery === "salvage",
      requiredFromLsn: this.options.requiredFromLsn,
      segments: () => this.segments(),
      committedLsn: () => this.committedLsn,
      nextChange: () => new Promise<void>((resolve) => this.changeWaiters.push(resolve)),
      isClosed: () => this.closed,
      failure: () => this.writer?.failure,
      onSkipped: (damage: DamageReport) => {
        if (!this.recoveryReport.skipped.some((d) => d.file === damage.file && d.offset === damage.offset)) {
          this.recoveryReport.skipped.push(damage);
        }
      },
    };
  }
}

/**
 * Opens (or creates) the log in `directory` as Log.open does, telling `hooks` (if any) of each
 * commit and of a failure before the public events. Returns the writer beside the log: the
 * seam (local-wal.ts) sequences through it. Not re-exported by the front door.
 */
export async function openLogWithHooks(directory: string, options: LogOptions, hooks: WalHooks | undefined): Promise<OpenedLog> {
  if (typeof directory !== "string" || directory.length === 0) throw new TypeError("directory must be a non-empty string");
  const resolved = resolveLogOptions(options);
  const fs: FileSystem = options.fileSystem ?? new NodeFileSystem();
  const ownsFileSystem = options.fileSystem === undefined;
  const path = resolvePath(directory);
  let lock: DirectoryLock | undefined;
  try {
    if (!resolved.readOnly && resolved.create) await fs.mkdir(path);
    if (!resolved.readOnly)
      lock = await fs.lockDirectory(path).catch((error: unknown) => {
        if (errnoCode(error) === "ENOENT") throw new LogbookError("LOGBOOK_NOT_FOUND", `no log in ${path}`, { file: path });
        throw error;
      });
    const recovered = await recoverLog(fs, path, resolved);
    if (resolved.readOnly) await recovered.activeHandle.close();
    return build(path, resolved, fs, ownsFileSystem, lock, recovered, hooks);
  } catch (error) {
    await lock?.release();
    if (ownsFileSystem) await fs.close?.();
    // A disk error during recovery (a read EIO) is typed like any other disk error.
    throw asDiskError(error, `opening the log in ${path} failed`, { file: path });
  }
}
