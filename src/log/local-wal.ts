/**
 * The local log behind the seam (contract.ts): a Log, its group-commit writer, and the
 * owner's hooks. A write is sequenced straight into the writer, detached: the owner learns of
 * its acknowledgement from `onCommit`, called once per commit before the Log's public `commit`
 * event, with no promise per write. Everything else is the Log's own.
 */
import { LogbookError } from "../errors.js";
import type {
  FollowOptions,
  LogRecord,
  LogStats,
  PayloadSource,
  RecordVisitor,
  WaitLevel,
  WalHooks,
  WriteAheadLog,
} from "./contract.js";
import { type Log, openLogWithHooks } from "./log.js";
import type { LogOptions } from "./options.js";
import type { DamageReport } from "./recovery.js";
import { checkSequenceInput } from "./sequence-input.js";
import type { GroupCommitWriter } from "./writer.js";

/**
 * Opens (or creates) the log in `directory` as Log.open does (recovery, options, errors), for
 * an owner that is told of acknowledgements and of a failure through `hooks`.
 */
export async function openLocalWal(directory: string, options: LogOptions, hooks: WalHooks): Promise<WriteAheadLog> {
  if (typeof hooks?.onCommit !== "function" || typeof hooks.onFailure !== "function") {
    throw new TypeError("hooks must have onCommit() and onFailure()");
  }
  const { log, writer } = await openLogWithHooks(directory, options, hooks);
  return new LocalWal(log, writer);
}

class LocalWal implements WriteAheadLog {
  private readonly log: Log;
  private readonly writer: GroupCommitWriter | undefined;

  constructor(log: Log, writer: GroupCommitWriter | undefined) {
    this.log = log;
    this.writer = writer;
  }

  get firstLsn(): number {
    return this.log.firstLsn;
  }

  get lastLsn(): number {
    return this.log.lastLsn;
  }

  get committedLsn(): number {
    return this.log.committedLsn;
  }

  get durableLsn(): number {
    return this.log.durableLsn;
  }

  get appendedBytes(): number {
    return this.log.appendedBytes;
  }

  get failure(): LogbookError | undefined {
    return this.log.failure;
  }

  get isReadOnly(): boolean {
    return this.log.isReadOnly;
  }

  get skipped(): readonly DamageReport[] {
    return this.log.recovery.skipped;
  }

  /** The writer refuses (typed) once the log has failed or close() was called; so nothing here checks that. */
  sequence(records: readonly Uint8Array[] | PayloadSource): number {
    const writer = this.writer;
    checkSequenceInput(records);
    if (writer === undefined) throw this.readOnlyError();
    return Array.isArray(records) ? writer.sequenceDetached(records) : writer.sequenceEncoded(records as PayloadSource);
  }

  visitRecords(options: FollowOptions, visit: RecordVisitor): Promise<void> {
    return this.log.visitRecords(options, visit);
  }

  follow(options: FollowOptions): AsyncGenerator<LogRecord[]> {
    return this.log.readBatches({ ...options, follow: true });
  }

  truncateBefore(lsn: number): Promise<number> {
    return this.log.truncateBefore(lsn);
  }

  waitFor(lsn: number, level: WaitLevel): Promise<void> {
    return this.log.waitFor(lsn, level);
  }

  stats(): LogStats {
    return this.log.stats();
  }

  close(): Promise<void> {
    return this.log.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private readOnlyError(): LogbookError {
    return new LogbookError("LOGBOOK_READ_ONLY", `the log in ${this.log.directory} is open read-only`);
  }
}
