/**
 * The contract between the log and the layers above it. `WriteAheadLog` is the one seam the
 * store reaches its log through: the local log (log.ts) implements it, so does the in-memory
 * log the tests use, and a replicated log must too. Everything a layer above needs to name
 * from src/log is declared here and re-exported by the log's front door.
 */
import type { LogbookError } from "../errors.js";
import type { DamageReport } from "./recovery.js";

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

/**
 * What the owner of a write-ahead log is told, given when it is opened. Both are called on
 * the event loop; `onCommit` in LSN order, each time with the records acknowledged since the
 * last call; `onFailure` once, after which no further `onCommit` comes.
 */
export interface WalHooks {
  onCommit(info: CommitInfo): void;
  onFailure(error: LogbookError): void;
}

/** Draft of the seam (issue 24); the seam's owner finalises it with its conformance suite. */
export interface WriteAheadLog {
  readonly firstLsn: number;
  readonly lastLsn: number;
  readonly committedLsn: number;
  readonly durableLsn: number;
  readonly failure: LogbookError | undefined;
  readonly isReadOnly: boolean;
  /** Damage recovery read around (below records anyone needs): the store refuses if it needs them. */
  readonly skipped: readonly DamageReport[];
  sequence(records: readonly Uint8Array[] | PayloadSource): number;
  visitRecords(options: { from?: number; signal?: AbortSignal }, visit: RecordVisitor): Promise<void>;
  truncateBefore(lsn: number): Promise<number>;
  waitFor(lsn: number, level: WaitLevel): Promise<void>;
  close(): Promise<void>;
}
