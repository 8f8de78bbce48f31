/**
 * Options of Store.open, their defaults and their validation. Bad options are bad input: they
 * are refused with LOGBOOK_INVALID_OPTION before anything touches the disk.
 */
import { LogbookError } from "../errors.js";
import type { LogOptions, OpenWriteAheadLog } from "../log/index.js";
import type { KeyEncoding, ValueEncoding } from "./encoding.js";

export interface StoreOptions
  extends Pick<
    LogOptions,
    "sync" | "syncIntervalMs" | "segmentBytes" | "preallocate" | "batchBytesMax" | "commitOnEventLoop" | "fileSystem" | "clock"
  > {
  valueEncoding?: ValueEncoding;
  keyEncoding?: KeyEncoding;
  keyBytesMax?: number;
  valueBytesMax?: number;
  /** Start a checkpoint once this many log bytes were written since the last one (0: never automatically). */
  checkpointEveryBytes?: number;
  /** A feed cursor further behind than this many bytes of log is dropped at the next checkpoint (feed-cursors.ts). */
  feedCursorLagBytesMax?: number;
  readOnly?: boolean;
  /** Producer IDs each stream remembers for idempotent adds (`add` with `producerId`); the oldest is forgotten first. */
  streamProducerWindow?: number;
  /** How often streams with retention by age are trimmed when no add comes, ms (0: only on adds). */
  streamRetentionSweepMs?: number;
  /** How often keys past their expiry time are deleted (logged), ms (0: never; reads hide them all the same). */
  expirySweepMs?: number;
  /**
   * Opens the log the store keeps its writes in (in `<directory>/log`). Default: the local log
   * with the log options above. The log options then apply only if this opener uses them.
   */
  openLog?: OpenWriteAheadLog;
}

export const DEFAULT_KEY_BYTES_MAX = 4096;
export const DEFAULT_VALUE_BYTES_MAX = 1024 * 1024;
export const DEFAULT_CHECKPOINT_EVERY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_FEED_CURSOR_LAG_BYTES_MAX = 1024 * 1024 * 1024;

function invalidOption(message: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_OPTION", message);
}

export function checkStoreOptions(options: StoreOptions): void {
  if (typeof options !== "object" || options === null) throw invalidOption("options must be an object");
  const { valueEncoding, keyEncoding, openLog } = options;
  if (valueEncoding !== undefined && !["json", "utf8", "binary"].includes(valueEncoding)) {
    throw invalidOption(`valueEncoding must be json, utf8 or binary, got ${String(valueEncoding)}`);
  }
  if (keyEncoding !== undefined && !["utf8", "binary"].includes(keyEncoding)) {
    throw invalidOption(`keyEncoding must be utf8 or binary, got ${String(keyEncoding)}`);
  }
  for (const name of [
    "keyBytesMax",
    "valueBytesMax",
    "checkpointEveryBytes",
    "streamProducerWindow",
    "streamRetentionSweepMs",
    "expirySweepMs",
    "feedCursorLagBytesMax",
  ] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
      throw invalidOption(`${name} must be a non-negative integer`);
  }
  if (openLog !== undefined && typeof openLog !== "function") throw new TypeError("openLog must be a function");
}
