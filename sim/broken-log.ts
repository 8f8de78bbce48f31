/**
 * A deliberately broken log for the store, injected through StoreOptions.openLog: it re-creates
 * the bug of a checkpoint that frees the log below it before its manifest is durable, which the
 * crash simulation must catch. The store waits for its log to be durable up to a checkpoint's
 * LSN only while writing that checkpoint; this log frees everything up to there as soon as
 * that wait resolves, before the checkpoint file and the manifest naming it are on disk.
 */
import type { LogbookError } from "../src/errors.js";
import type {
  DamageReport,
  FollowOptions,
  LogRecord,
  LogStats,
  OpenWriteAheadLog,
  PayloadSource,
  RecordVisitor,
  WaitLevel,
  WriteAheadLog,
} from "../src/log/index.js";
import { localLogOpener, type StoreOptions } from "../src/store/store.js";

/** `inner`, except that a wait for `lsn` to be durable frees the log before `lsn + 1` once it resolves. */
class FreeingBeforeManifest implements WriteAheadLog {
  constructor(private readonly inner: WriteAheadLog) {}

  async waitFor(lsn: number, level: WaitLevel): Promise<void> {
    await this.inner.waitFor(lsn, level);
    if (level === "durable") await this.inner.truncateBefore(lsn + 1); // the deliberate bug
  }

  get firstLsn(): number {
    return this.inner.firstLsn;
  }
  get lastLsn(): number {
    return this.inner.lastLsn;
  }
  get committedLsn(): number {
    return this.inner.committedLsn;
  }
  get durableLsn(): number {
    return this.inner.durableLsn;
  }
  get appendedBytes(): number {
    return this.inner.appendedBytes;
  }
  get failure(): LogbookError | undefined {
    return this.inner.failure;
  }
  get isReadOnly(): boolean {
    return this.inner.isReadOnly;
  }
  get skipped(): readonly DamageReport[] {
    return this.inner.skipped;
  }
  sequence(records: readonly Uint8Array[] | PayloadSource): number {
    return this.inner.sequence(records);
  }
  visitRecords(options: FollowOptions, visit: RecordVisitor): Promise<void> {
    return this.inner.visitRecords(options, visit);
  }
  follow(options: FollowOptions): AsyncGenerator<LogRecord[]> {
    return this.inner.follow(options);
  }
  truncateBefore(lsn: number): Promise<number> {
    return this.inner.truncateBefore(lsn);
  }
  stats(): LogStats {
    return this.inner.stats();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.inner.close();
  }
}

/** The store's local log (as Store.open would open it with `options`), freeing itself before the manifest. */
export function openLogFreeingBeforeManifest(options: StoreOptions): OpenWriteAheadLog {
  const open = localLogOpener(options);
  return async (directory, hooks, openOptions) => new FreeingBeforeManifest(await open(directory, hooks, openOptions));
}
