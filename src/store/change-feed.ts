/**
 * The store's change feed: its writes as changes, in LSN order, read from the log (not from
 * the state), so that a consumer can start from any LSN the log still holds. Only durable
 * records are handed out: a record the log has acknowledged but not yet made durable (sync
 * "interval" or "none") is held back until it is, so no consumer ever sees a write that a
 * crash could take back and whose LSN could then be given to another write. New commits
 * wake the reader through the log's `follow`; nothing polls.
 *
 * A reader ends cleanly when the store closes, with LOGBOOK_ABORTED when its signal aborts,
 * with LOGBOOK_CURSOR_DROPPED when the cursor it reads through is dropped for falling behind.
 */
import { LogbookError } from "../errors.js";
import type { WriteAheadLog } from "../log/index.js";
import { type Change, ChangeDecoder } from "./change.js";
import type { KeyEncoding, ValueEncoding } from "./encoding.js";
import type { FeedCursors } from "./feed-cursors.js";

export interface ChangesOptions {
  /** The first LSN to read (inclusive). Default: the next one to be committed; with `cursor`, the one after its acknowledgement. */
  from?: number;
  /** Read through this feed cursor: from after its acknowledged LSN (or `from`, when later). */
  cursor?: string;
  /** Aborting ends the read with LOGBOOK_ABORTED. */
  signal?: AbortSignal;
}

/** What the feed needs of its store. */
export interface ChangeFeedSubject {
  log: WriteAheadLog;
  cursors: FeedCursors;
  keyEncoding: KeyEncoding;
  valueEncoding: ValueEncoding;
}

/** Why a read stopped: the signals it listens to, checked in this order when one fires. */
interface Stops {
  dropped: AbortSignal | undefined;
  user: AbortSignal | undefined;
  closing: AbortSignal;
}

export function truncatedFeedError(lsn: number, firstLsn: number, cause?: unknown): LogbookError {
  return new LogbookError(
    "LOGBOOK_TRUNCATED",
    `changes from LSN ${lsn} are no longer in the log (it starts at ${firstLsn}): resync from a snapshot scan (store.snapshot()) and resume from its lsn + 1`,
    { lsn, cause },
  );
}

export class ChangeFeed {
  private readonly subject: ChangeFeedSubject;
  private readonly closing = new AbortController();

  constructor(subject: ChangeFeedSubject) {
    this.subject = subject;
  }

  /**
   * The changes from the start `options` give, following new commits. Checks its options at
   * once: throws LOGBOOK_TRUNCATED for a start the log no longer holds, LOGBOOK_INVALID_LSN for
   * one that is not an LSN or not yet appended, LOGBOOK_NOT_FOUND or LOGBOOK_CURSOR_DROPPED
   * for a cursor, LOGBOOK_CLOSED once the store is closed.
   */
  changes(options: ChangesOptions = {}): AsyncGenerator<Change> {
    if (typeof options !== "object" || options === null) throw new TypeError("changes takes an options object");
    const { from, cursor, signal } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("signal must be an AbortSignal");
    if (cursor !== undefined && typeof cursor !== "string") throw new TypeError("cursor must be a string");
    if (this.closing.signal.aborted) throw new LogbookError("LOGBOOK_CLOSED", "the store is closed");
    const { log } = this.subject;
    if (from !== undefined && (!Number.isSafeInteger(from) || from < 1 || from > log.committedLsn + 1)) {
      throw new LogbookError("LOGBOOK_INVALID_LSN", `from must be an LSN from 1 to ${log.committedLsn + 1}, got ${String(from)}`);
    }
    let fromLsn = from ?? log.committedLsn + 1;
    let dropped: AbortSignal | undefined;
    if (cursor !== undefined) {
      const start = this.subject.cursors.readFrom(cursor);
      // A cursor keeps the log from its acknowledgement on; a later `from` skips ahead, an earlier one may be freed.
      fromLsn = Math.max(start.fromLsn, from ?? 0);
      dropped = start.dropped;
    }
    if (fromLsn < log.firstLsn) throw truncatedFeedError(fromLsn, log.firstLsn);
    return this.read(fromLsn, { dropped, user: signal, closing: this.closing.signal });
  }

  /** Ends every read (cleanly) and refuses new ones. */
  close(): void {
    this.closing.abort();
  }

  private async *read(fromLsn: number, stops: Stops): AsyncGenerator<Change> {
    const stop = new AbortController();
    const sources = [stops.dropped, stops.user, stops.closing].filter((s): s is AbortSignal => s !== undefined);
    const onAbort = () => stop.abort();
    for (const source of sources) {
      if (source.aborted) stop.abort();
      else source.addEventListener("abort", onAbort, { once: true });
    }
    const { log } = this.subject;
    const decoder = new ChangeDecoder(this.subject.keyEncoding, this.subject.valueEncoding);
    try {
      for await (const records of log.follow({ from: fromLsn, signal: stop.signal })) {
        const lastLsn = (records[records.length - 1] as { lsn: number }).lsn;
        if (lastLsn > log.durableLsn) await untilDurable(log, lastLsn, stop.signal);
        for (const record of records) {
          if (stop.signal.aborted) break;
          yield* decoder.decode(record.payload, record.lsn);
        }
        if (stop.signal.aborted) break;
      }
      const ended = stopError(stops);
      if (ended !== undefined) throw ended;
    } catch (error) {
      const ended = stopError(stops) ?? asFeedError(error, log);
      if (ended !== undefined) throw ended;
    } finally {
      for (const source of sources) source.removeEventListener("abort", onAbort);
    }
  }
}

/** The error a stopped read ends with (undefined: it ends cleanly, or did not stop). */
function stopError(stops: Stops): LogbookError | undefined {
  if (stops.dropped?.aborted) return stops.dropped.reason as LogbookError;
  if (stops.user?.aborted)
    return new LogbookError("LOGBOOK_ABORTED", "reading changes was aborted", { cause: stops.user.reason });
  return undefined;
}

/** A failure of the read as the feed reports it; undefined when the store closed under it. */
function asFeedError(error: unknown, log: WriteAheadLog): unknown {
  if (!(error instanceof LogbookError)) return error;
  if (error.code === "LOGBOOK_CLOSED" || error.code === "LOGBOOK_ABORTED") return undefined;
  if (error.code === "LOGBOOK_TRUNCATED") return truncatedFeedError(error.lsn ?? 0, log.firstLsn, error);
  return error;
}

/** Resolves once `lsn` is durable (starting an fdatasync if none is under way); rejects when `signal` aborts. */
async function untilDurable(log: WriteAheadLog, lsn: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new LogbookError("LOGBOOK_ABORTED", "reading changes was aborted");
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      log.waitFor(lsn, "durable"),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new LogbookError("LOGBOOK_ABORTED", "reading changes was aborted"));
        signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
  }
}
