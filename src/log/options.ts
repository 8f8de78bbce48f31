/**
 * Options of Log.open, their defaults and their validation. Bad options are bad input:
 * they are refused with LOGBOOK_INVALID_OPTION before anything touches the disk.
 */
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { type Clock, systemClock } from "../io/index.js";
import { FRAME_HEADER_BYTES, RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES } from "./format.js";
import { RECOVERY_RULES, type RecoveryRules } from "./recovery-rules.js";

/**
 * - `always`: an append resolves after the fdatasync that covers it (survives power loss).
 * - `interval`: resolves once written to the OS; fdatasync every `syncIntervalMs` (survives a process crash).
 * - `none`: resolves once written to the OS; the OS decides when it reaches the disk.
 */
export type SyncMode = "always" | "interval" | "none";

/**
 * - `tolerate-tail`: cut a torn tail of the newest segment (kept aside first); refuse any other damage.
 * - `strict`: refuse any damage, a torn tail included; change nothing on disk.
 * - `point-in-time`: keep the log up to the first damage, set everything after it aside, report the lost range.
 * - `salvage`: read-only; reading skips damaged frames and reports them.
 */
export type RecoveryMode = "tolerate-tail" | "strict" | "point-in-time" | "salvage";

export interface LogOptions {
  sync?: SyncMode;
  /** With sync `interval`: how often written records are fdatasynced. */
  syncIntervalMs?: number;
  /** A segment file's size; a new segment starts when the next frame would not fit. */
  segmentBytes?: number;
  /** Ceiling of one group commit (one write, one fdatasync), frame header included. */
  batchBytesMax?: number;
  /** Ceiling of bytes appended but not yet written; beyond it appends reject with LOGBOOK_OVERLOADED. */
  pendingBytesMax?: number;
  /** Zero-fill the next segment ahead of time, so that fdatasync does not also commit a file-size change. */
  preallocate?: boolean;
  /**
   * Let the event loop write and fdatasync a commit itself, blocking for it, when the writer
   * thread would only add two hand-offs: the burst's JavaScript is cheaper than a commit (low
   * concurrency) and the thread is not mid-commit. Default true; false never blocks the event loop.
   */
  commitOnEventLoop?: boolean;
  recovery?: RecoveryMode;
  /** A different rules table: only the crash simulator's deliberately broken variants set it. */
  recoveryRules?: RecoveryRules;
  /** `full` checks every record of every segment at open; `tail` only the newest segment (others are checked when read). */
  verifyOnOpen?: "full" | "tail";
  /**
   * Records below this LSN are not needed (a store's checkpoint holds what they wrote): a frame
   * one flipped bit from valid whose every record lies below it is reported in `recovery.skipped`
   * and read around, by recovery and by reads from this LSN on, instead of failing them. Other
   * damage still fails them. Default 0: every record is needed.
   */
  requiredFromLsn?: number;
  /** Open without writing anything: no repair, appends reject with LOGBOOK_READ_ONLY. */
  readOnly?: boolean;
  /** Create the directory and a new log when none exists (default true; false for tools that only inspect). */
  create?: boolean;
  /** The disk; tests pass a simulated one. */
  fileSystem?: FileSystem;
  /** Time; the simulated disk passes its virtual clock, so that a seed replays exactly. */
  clock?: Clock;
}

export interface ResolvedLogOptions {
  sync: SyncMode;
  syncIntervalMs: number;
  segmentBytes: number;
  batchBytesMax: number;
  pendingBytesMax: number;
  preallocate: boolean;
  commitOnEventLoop: boolean;
  recovery: RecoveryMode;
  recoveryRules: RecoveryRules;
  verifyOnOpen: "full" | "tail";
  requiredFromLsn: number;
  readOnly: boolean;
  create: boolean;
  clock: Clock;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
export const DEFAULT_BATCH_BYTES_MAX = 4 * 1024 * 1024;
export const DEFAULT_PENDING_BYTES_MAX = 256 * 1024 * 1024;
export const DEFAULT_SYNC_INTERVAL_MS = 1000;
/** Frames are addressed with u32 sizes; segments stay well below 4 GiB. */
const SEGMENT_BYTES_MAX = 1024 * 1024 * 1024;
const BATCH_BYTES_MIN = 4096;
const SYNC_MODES: readonly SyncMode[] = ["always", "interval", "none"];
const RECOVERY_MODES: readonly RecoveryMode[] = ["tolerate-tail", "strict", "point-in-time", "salvage"];

function invalid(message: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_OPTION", message);
}

function integerOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

function choiceOption<T extends string>(name: string, value: T | undefined, fallback: T, choices: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value)) throw invalid(`${name} must be one of ${choices.join(", ")}, got ${String(value)}`);
  return value;
}

function booleanOption(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw invalid(`${name} must be a boolean, got ${String(value)}`);
  return value;
}

export function resolveLogOptions(options: LogOptions = {}): ResolvedLogOptions {
  if (typeof options !== "object" || options === null) throw invalid("options must be an object");
  const batchBytesMax = integerOption(
    "batchBytesMax",
    options.batchBytesMax,
    DEFAULT_BATCH_BYTES_MAX,
    BATCH_BYTES_MIN,
    SEGMENT_BYTES_MAX / 4,
  );
  const segmentBytes = integerOption(
    "segmentBytes",
    options.segmentBytes,
    Math.max(DEFAULT_SEGMENT_BYTES, SEGMENT_HEADER_BYTES + batchBytesMax),
    SEGMENT_HEADER_BYTES + batchBytesMax,
    SEGMENT_BYTES_MAX,
  );
  const recovery = choiceOption("recovery", options.recovery, "tolerate-tail", RECOVERY_MODES);
  return {
    sync: choiceOption("sync", options.sync, "always", SYNC_MODES),
    syncIntervalMs: integerOption("syncIntervalMs", options.syncIntervalMs, DEFAULT_SYNC_INTERVAL_MS, 1, 3_600_000),
    segmentBytes,
    batchBytesMax,
    pendingBytesMax: integerOption(
      "pendingBytesMax",
      options.pendingBytesMax,
      Math.max(DEFAULT_PENDING_BYTES_MAX, 2 * batchBytesMax),
      2 * batchBytesMax,
      Number.MAX_SAFE_INTEGER,
    ),
    preallocate: booleanOption("preallocate", options.preallocate, true),
    commitOnEventLoop: booleanOption("commitOnEventLoop", options.commitOnEventLoop, true),
    recovery,
    recoveryRules: options.recoveryRules ?? RECOVERY_RULES,
    verifyOnOpen: choiceOption("verifyOnOpen", options.verifyOnOpen, "full", ["full", "tail"]),
    requiredFromLsn: integerOption("requiredFromLsn", options.requiredFromLsn, 0, 0, Number.MAX_SAFE_INTEGER),
    readOnly: booleanOption("readOnly", options.readOnly, false) || recovery === "salvage",
    create: booleanOption("create", options.create, true),
    clock: options.clock ?? systemClock,
  };
}

/** The largest payload one append can carry: one record alone in a frame of `batchBytesMax`. */
export function payloadBytesMax(batchBytesMax: number): number {
  return batchBytesMax - FRAME_HEADER_BYTES - RECORD_HEADER_BYTES;
}
