/**
 * The contract between the log and the layers above it. `WriteAheadLog` is the one seam the
 * store reaches its log through: the local log (local-wal.ts) implements it, so does the
 * in-memory log the tests use (src/testing/memory-log.ts), and a replicated log must too.
 * test/log/wal-conformance.ts states the guarantees below as tests and runs against each.
 * Everything a layer above needs to name from src/log is declared here and re-exported by the
 * log's front door (index.ts).
 */
import type { LogbookError } from "../errors.js";
import type { SyncMode } from "./options.js";
import type { DamageReport, RecoveryReport } from "./recovery.js";

export type WaitLevel = "written" | "durable";

export interface CommitInfo {
  /** The records acknowledged by this commit (one or more frames observed at once). */
  firstLsn: number;
  lastLsn: number;
  records: number;
  /** Duration of the last frame's write (and fdatasync, with sync `always`). */
  durationMs: number;
  /** Of which the fdatasync (0 unless sync `always`). */
  fsyncMs: number;
  /** Whether acknowledgement means durable (sync `always`). */
  durable: boolean;
}

/** A record's payload that its maker writes straight into the log's buffer (no copy of its own). */
export interface PayloadSource {
  /** The payload's length in bytes. */
  readonly payloadBytes: number;
  /** Writes exactly `payloadBytes` bytes to target[offset, offset + payloadBytes). */
  writePayload(target: Uint8Array, offset: number): void;
}

/** Called with each record's payload in place: bytes[start, end), valid only during the call. */
export type RecordVisitor = (lsn: number, bytes: Uint8Array, start: number, end: number) => void;

export interface LogRecord {
  lsn: number;
  payload: Uint8Array;
}

/**
 * What the owner of a write-ahead log is told, given when it is opened. Both are called on
 * the event loop, never from inside a call into the log; `onCommit` in LSN order, each time
 * with the records acknowledged since the last call (no gap, no overlap); `onFailure` once,
 * after which no further `onCommit` comes.
 */
export interface WalHooks {
  onCommit(info: CommitInfo): void;
  onFailure(error: LogbookError): void;
}

/** What the owner decides when it opens its log (the rest is the implementation's configuration). */
export interface WalOpenOptions {
  /** Open without writing: sequence and truncateBefore throw LOGBOOK_READ_ONLY. */
  readOnly: boolean;
  /** Create a new, empty log when there is none; else opening a missing one fails with LOGBOOK_NOT_FOUND. */
  create: boolean;
  /**
   * Records below this LSN are not needed (a checkpoint holds what they wrote): damage wholly
   * below it may be read around and reported in `skipped` instead of failing the open. 0: all are.
   */
  requiredFromLsn: number;
}

/** Opens the log an owner keeps in `directory`; hooks are wired before any write can be acknowledged. */
export type OpenWriteAheadLog = (directory: string, hooks: WalHooks, options: WalOpenOptions) => Promise<WriteAheadLog>;

export interface FollowOptions {
  /** First LSN to return (default, or 0: the oldest the log still has). Below it: LOGBOOK_TRUNCATED. */
  from?: number;
  /** Aborting ends the read with LOGBOOK_ABORTED. */
  signal?: AbortSignal;
}

/**
 * A durable, totally ordered log of records numbered by LSN (1, 2, 3… with no gap; never
 * reused once acknowledged). Acknowledged means durable under the implementation's
 * configuration (for the local log: after the fdatasync that covers it under sync `always`).
 * After a failure (a disk error, a lost quorum) the log is fail-stop: nothing more is
 * acknowledged, and whatever was not is decided by the next open.
 */
export interface WriteAheadLog extends AsyncDisposable {
  /** The oldest LSN the log still holds (1 until something is truncated); the next LSN when it holds none. */
  readonly firstLsn: number;
  /** The last LSN sequenced (acknowledged or not); 0 for an empty log. */
  readonly lastLsn: number;
  /** Records up to here are acknowledged: reads return them, `onCommit` has told of them. */
  readonly committedLsn: number;
  /** Records up to here are durable: ≤ committedLsn, below it when acknowledgement does not wait for durability. */
  readonly durableLsn: number;
  /** Bytes of records sequenced since open, in the log's own measure: what checkpoint policies count. */
  readonly appendedBytes: number;
  /** The failure that stopped the log, once it has failed. */
  readonly failure: LogbookError | undefined;
  readonly isReadOnly: boolean;
  /**
   * Damage read around because every record in it lies below `requiredFromLsn`: the owner
   * refuses if it turns out to need them. Grows when a read passes over more such damage.
   */
  readonly skipped: readonly DamageReport[];

  /**
   * Sequences a write and returns its (first) LSN at once; it is acknowledged later through
   * `onCommit`, and never if `onFailure` comes first. An array is one atomic group, its records
   * given consecutive LSNs: after any crash all of them are in the log or none is. A
   * PayloadSource is one record whose `writePayload` is called once, synchronously, before this
   * returns; if it throws, nothing was sequenced. Throws a LogbookError (LOGBOOK_LOG_FAILED or
   * the failure's code, LOGBOOK_CLOSED, LOGBOOK_READ_ONLY, LOGBOOK_RECORD_TOO_LARGE,
   * LOGBOOK_OVERLOADED) and sequences nothing when the write cannot be taken; a TypeError for
   * an empty group, a payload that is not a Uint8Array, or a malformed source.
   */
  sequence(records: readonly Uint8Array[] | PayloadSource): number;
  /**
   * Hands every acknowledged record from `options.from` to `visit`, in LSN order, payload in
   * place; resolves once the visitor has seen every record acknowledged when it got there.
   * Rejects with LOGBOOK_TRUNCATED for a start below `firstLsn`, LOGBOOK_INVALID_LSN for one
   * that is not a non-negative integer, LOGBOOK_CORRUPTION for damage.
   */
  visitRecords(options: FollowOptions, visit: RecordVisitor): Promise<void>;
  /**
   * Acknowledged records from `options.from`, in LSN order and in batches, then each new batch
   * as it is acknowledged (payloads are the reader's own). Ends when the log closes; throws the
   * log's failure once it has failed and every acknowledged record was returned.
   */
  follow(options: FollowOptions): AsyncGenerator<LogRecord[]>;
  /**
   * Frees records below `lsn` as far as the implementation's unit of storage allows (whole
   * segments for the local log): afterwards `firstLsn` ≤ `lsn`, and every record from
   * `firstLsn` on is still there. Resolves how many units were freed. Rejects with
   * LOGBOOK_INVALID_LSN when `lsn` is past `durableLsn + 1` or not a non-negative integer.
   */
  truncateBefore(lsn: number): Promise<number>;
  /**
   * Resolves once `lsn` is written (`written`) or durable (`durable`, which also starts making
   * it so). Rejects with LOGBOOK_INVALID_LSN for an LSN never sequenced, with the failure once
   * the log has failed, with LOGBOOK_CLOSED once close() was called (waits made before it
   * resolve), and with LOGBOOK_READ_ONLY for an LSN a read-only log does not hold.
   */
  waitFor(lsn: number, level: WaitLevel): Promise<void>;
  /** Figures for metrics and status pages. */
  stats(): LogStats;
  /** Makes everything sequenced durable and acknowledged (unless failed), then releases the log. Idempotent. */
  close(): Promise<void>;
}

export interface LogStats {
  logId: string;
  sync: SyncMode;
  firstLsn: number;
  lastLsn: number;
  writtenLsn: number;
  durableLsn: number;
  appends: number;
  records: number;
  recordBytes: number;
  commits: number;
  /** Of which the event loop wrote itself, blocking for them (commitOnEventLoop); the writer thread did the rest. */
  commitsOnEventLoop: number;
  fsyncs: number;
  /** Mean records per group commit: how much work one write and one fdatasync did. */
  recordsPerCommit: number;
  commitMsMean: number;
  commitMsMax: number;
  pendingBytes: number;
  segments: number;
  /** A zero-filled file is ready to become the next segment (preallocation). */
  spareSegmentReady: boolean;
  rotations: number;
  segmentsTruncated: number;
  /** Bytes allocated to segment files: whole preallocated segments, and the spare when ready. */
  diskBytes: number;
  failed: boolean;
  failureCode: string | undefined;
  recovery: RecoveryReport;
}
