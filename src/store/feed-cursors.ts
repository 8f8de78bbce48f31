/**
 * Named feed cursors, like PostgreSQL's replication slots: each remembers the last LSN its
 * consumer acknowledged, survives restarts (feed-cursor-file.ts), and keeps the checkpointer
 * from freeing the log it still needs, up to `lagBytesMax` bytes of log: a cursor further
 * behind is dropped at the next checkpoint, so that one forgotten consumer cannot fill the disk.
 *
 * Invariants: an acknowledged LSN only grows and is never past the log's durable LSN (the feed
 * hands out durable changes only, so a crash cannot take back what a cursor has passed). The
 * log is kept from the lowest acknowledgement that is on disk (not one still being written),
 * plus one: a crash leaves no cursor pointing into freed log.
 */
import { asDiskError, LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import type { WriteAheadLog } from "../log/index.js";
import { type DroppedCursor, type FeedCursorFile, writeFeedCursorFile } from "./feed-cursor-file.js";
import { LogByteLedger } from "./log-byte-ledger.js";

/** Cursor names: letters, digits and `_ . / -`. */
export const FEED_CURSOR_NAME = /^[A-Za-z0-9_./-]{1,200}$/;
export const FEED_CURSORS_MAX = 1024;
/** Dropped cursors remembered (a reader through one is told why it is gone), newest kept. */
export const DROPPED_CURSORS_KEPT = 64;

export interface FeedCursorInfo {
  name: string;
  /** The last LSN acknowledged: reading through the cursor starts after it. */
  lsn: number;
  /** Durable records after `lsn`, and the bytes of log they take (an estimate: log-byte-ledger.ts). */
  lagRecords: number;
  lagBytes: number;
}

export interface CursorDroppedEvent {
  name: string;
  lsn: number;
  lagBytes: number;
  error: LogbookError;
}

export interface CreateCursorOptions {
  /** The first LSN to read through it (default: the one after the durable LSN now). */
  fromLsn?: number;
}

/** What the cursors need of their store. */
export interface FeedCursorSubject {
  fs: FileSystem;
  directory: string;
  log: WriteAheadLog;
  lagBytesMax: number;
  /** Mean bytes a record takes in the log when nothing was appended since open (from replay). */
  replayedRecordBytes: number;
  isClosed(): boolean;
  dropped(event: CursorDroppedEvent): void;
}

interface Cursor {
  name: string;
  lsn: number;
  /** The acknowledgement on disk (undefined until its creation is). */
  storedLsn: number | undefined;
  /** Aborted when the cursor is dropped: readers through it stop, with the reason. */
  readonly dropping: AbortController;
}

export function droppedCursorError(dropped: DroppedCursor, lagBytesMax: number): LogbookError {
  const why =
    dropped.lagBytes > 0
      ? `fell ${dropped.lagBytes} bytes of log behind (more than feedCursorLagBytesMax, ${lagBytesMax})`
      : "needed log records that are no longer there";
  return new LogbookError(
    "LOGBOOK_CURSOR_DROPPED",
    `feed cursor ${dropped.name} ${why} and was dropped at LSN ${dropped.lsn}: resync from store.snapshot() and create it again from the snapshot's lsn + 1`,
    { lsn: dropped.lsn },
  );
}

export class FeedCursors {
  private readonly subject: FeedCursorSubject;
  private readonly cursors = new Map<string, Cursor>();
  private dropped: DroppedCursor[];
  private readonly ledger: LogByteLedger;
  /** New cursors start at or above it: the log below it may be being freed. Only grows. */
  private retainedFromLsn = 0;
  private nextWrite: Promise<void> | undefined;
  private runningWrite: Promise<void> | undefined;
  /** Cursors dropped for falling behind since open. */
  droppedTotal = 0;

  constructor(subject: FeedCursorSubject, file: FeedCursorFile) {
    this.subject = subject;
    this.dropped = file.dropped.slice(-DROPPED_CURSORS_KEPT);
    const { log } = subject;
    this.ledger = new LogByteLedger(log.committedLsn, () => this.meanRecordBytes());
    for (const stored of file.cursors) {
      // A crash between freeing the log and writing this file down can leave a cursor that
      // needs freed records; it can no longer deliver them, so it is dropped as if too far behind.
      if (stored.lsn + 1 < log.firstLsn) this.remember({ name: stored.name, lsn: stored.lsn, lagBytes: 0 });
      else this.cursors.set(stored.name, { ...stored, storedLsn: stored.lsn, dropping: new AbortController() });
    }
  }

  /** Creates a cursor; resolves once it is on disk. LOGBOOK_CONFLICT when the name is taken. */
  async create(name: string, options: CreateCursorOptions = {}): Promise<FeedCursorInfo> {
    this.checkWritable();
    checkName(name);
    const { log } = this.subject;
    const fromLsn = options.fromLsn ?? log.durableLsn + 1;
    if (!Number.isSafeInteger(fromLsn) || fromLsn < 1 || fromLsn > log.durableLsn + 1) {
      throw new LogbookError("LOGBOOK_INVALID_LSN", `fromLsn must be an LSN up to ${log.durableLsn + 1}, got ${String(fromLsn)}`);
    }
    const oldest = Math.max(log.firstLsn, this.retainedFromLsn);
    if (fromLsn < oldest) {
      throw new LogbookError("LOGBOOK_TRUNCATED", `LSN ${fromLsn} is no longer in the log, which starts at ${oldest}`, {
        lsn: fromLsn,
      });
    }
    if (this.cursors.has(name)) throw new LogbookError("LOGBOOK_CONFLICT", `feed cursor ${name} already exists`);
    if (this.cursors.size >= FEED_CURSORS_MAX) {
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `a store has at most ${FEED_CURSORS_MAX} feed cursors`);
    }
    const cursor: Cursor = { name, lsn: fromLsn - 1, storedLsn: undefined, dropping: new AbortController() };
    this.cursors.set(name, cursor);
    this.dropped = this.dropped.filter((d) => d.name !== name);
    try {
      await this.persist();
    } catch (error) {
      if (this.cursors.get(name) === cursor) this.cursors.delete(name);
      throw error;
    }
    return this.infoOf(cursor);
  }

  /**
   * Records that the consumer has processed every change up to `lsn`; resolves once that is on
   * disk. An LSN at or below the last acknowledgement changes nothing.
   */
  async ack(name: string, lsn: number): Promise<void> {
    this.checkWritable();
    const cursor = this.require(name);
    const { log } = this.subject;
    if (!Number.isSafeInteger(lsn) || lsn < 0 || lsn > log.durableLsn) {
      throw new LogbookError(
        "LOGBOOK_INVALID_LSN",
        `an acknowledgement is a durable LSN (up to ${log.durableLsn}), got ${String(lsn)}`,
      );
    }
    if (lsn <= cursor.lsn) return;
    cursor.lsn = lsn;
    await this.persist();
  }

  /** Removes a cursor (its readers end with LOGBOOK_NOT_FOUND); resolves once that is on disk. */
  async drop(name: string): Promise<void> {
    this.checkWritable();
    const cursor = this.require(name);
    this.cursors.delete(name);
    cursor.dropping.abort(new LogbookError("LOGBOOK_NOT_FOUND", `feed cursor ${name} was dropped`));
    await this.persist();
  }

  list(): FeedCursorInfo[] {
    return [...this.cursors.values()].map((cursor) => this.infoOf(cursor)).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  get size(): number {
    return this.cursors.size;
  }

  /** Where a read through `name` starts, and the signal that stops it when the cursor is dropped. */
  readFrom(name: string): { fromLsn: number; dropped: AbortSignal } {
    const cursor = this.require(name);
    return { fromLsn: cursor.lsn + 1, dropped: cursor.dropping.signal };
  }

  /** The log acknowledged records up to `lsn` (called once per commit). */
  noteCommit(lsn: number): void {
    this.ledger.note(lsn, this.subject.log.appendedBytes);
  }

  /**
   * The LSN the log may be freed below, given that the checkpoints need it from
   * `checkpointsNeedLsn`: first drops the cursors more than `lagBytesMax` behind (on disk before
   * this resolves, so no cursor left on disk needs what is freed), then keeps the log from the
   * oldest stored acknowledgement of those left, plus one.
   */
  async retainFrom(checkpointsNeedLsn: number): Promise<number> {
    const over = [...this.cursors.values()].filter((cursor) => this.lagBytesOf(cursor) > this.subject.lagBytesMax);
    const events = over.map((cursor) => this.dropBehind(cursor));
    let retained = checkpointsNeedLsn;
    if (events.length > 0) {
      try {
        await this.persist();
      } catch {
        // The file still names them: the log must still hold what they need.
        for (const event of events) retained = Math.min(retained, event.lsn + 1);
      }
    }
    // A cursor still being created counts from its LSN in memory: the file will name that one.
    for (const cursor of this.cursors.values()) retained = Math.min(retained, (cursor.storedLsn ?? cursor.lsn) + 1);
    this.retainedFromLsn = Math.max(this.retainedFromLsn, retained);
    this.ledger.forgetBelow(retained - 1);
    for (const event of events) this.subject.dropped(event);
    return retained;
  }

  /** Resolves once the writes of the file under way are done. */
  async settle(): Promise<void> {
    await this.nextWrite?.catch(() => undefined);
    await this.runningWrite?.catch(() => undefined);
  }

  /** The error a reader through `name` gets, if the cursor was dropped for falling behind. */
  droppedError(name: string): LogbookError | undefined {
    const dropped = this.dropped.find((d) => d.name === name);
    return dropped === undefined ? undefined : droppedCursorError(dropped, this.subject.lagBytesMax);
  }

  private dropBehind(cursor: Cursor): CursorDroppedEvent {
    const dropped = { name: cursor.name, lsn: cursor.lsn, lagBytes: this.lagBytesOf(cursor) };
    const error = droppedCursorError(dropped, this.subject.lagBytesMax);
    this.cursors.delete(cursor.name);
    this.remember(dropped);
    this.droppedTotal++;
    cursor.dropping.abort(error);
    return { ...dropped, error };
  }

  private remember(dropped: DroppedCursor): void {
    this.dropped = [...this.dropped.filter((d) => d.name !== dropped.name), dropped].slice(-DROPPED_CURSORS_KEPT);
  }

  private require(name: string): Cursor {
    if (typeof name !== "string") throw new TypeError("a feed cursor name must be a string");
    const cursor = this.cursors.get(name);
    if (cursor !== undefined) return cursor;
    throw this.droppedError(name) ?? new LogbookError("LOGBOOK_NOT_FOUND", `no feed cursor ${name}`);
  }

  private checkWritable(): void {
    if (this.subject.isClosed()) throw new LogbookError("LOGBOOK_CLOSED", "the store is closed");
    if (this.subject.log.isReadOnly) throw new LogbookError("LOGBOOK_READ_ONLY", "the store is open read-only");
  }

  private infoOf(cursor: Cursor): FeedCursorInfo {
    const lagRecords = Math.max(0, this.subject.log.durableLsn - cursor.lsn);
    return { name: cursor.name, lsn: cursor.lsn, lagRecords, lagBytes: lagRecords === 0 ? 0 : this.lagBytesOf(cursor) };
  }

  private lagBytesOf(cursor: Cursor): number {
    if (cursor.lsn >= this.subject.log.durableLsn) return 0;
    return this.ledger.bytesAfter(cursor.lsn, this.subject.log.appendedBytes);
  }

  private meanRecordBytes(): number {
    const stats = this.subject.log.stats();
    return stats.records > 0 ? stats.recordBytes / stats.records : this.subject.replayedRecordBytes;
  }

  /**
   * Writes the cursors down; changes made while a write runs share the next one (one write in
   * flight and one waiting, however many acknowledgements come).
   */
  private persist(): Promise<void> {
    this.nextWrite ??= (async () => {
      await this.runningWrite?.catch(() => undefined);
      this.nextWrite = undefined;
      const written = [...this.cursors.values()].map((cursor) => ({ cursor, lsn: cursor.lsn }));
      const file: FeedCursorFile = {
        format: 1,
        cursors: written.map(({ cursor, lsn }) => ({ name: cursor.name, lsn })),
        dropped: this.dropped,
      };
      const { fs, directory } = this.subject;
      const writing = writeFeedCursorFile(fs, directory, file).catch((error: unknown) => {
        throw asDiskError(error, `writing the feed cursors of ${directory} failed`, { file: directory });
      });
      this.runningWrite = writing;
      try {
        await writing;
      } finally {
        if (this.runningWrite === writing) this.runningWrite = undefined;
      }
      for (const { cursor, lsn } of written) cursor.storedLsn = Math.max(cursor.storedLsn ?? lsn, lsn);
    })();
    return this.nextWrite;
  }
}

function checkName(name: string): void {
  if (typeof name !== "string") throw new TypeError("a feed cursor name must be a string");
  if (!FEED_CURSOR_NAME.test(name)) {
    throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "a feed cursor name is 1-200 of A-Z a-z 0-9 _ . / -");
  }
}
