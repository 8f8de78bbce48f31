/**
 * The key-value store on the log: the front door of src/store.
 *
 * A write is checked and sequenced at once (its LSN is its version), logged, and applied to
 * the in-memory state only once the log acknowledges it: readers never see a write before it
 * is acknowledged (durable under sync "always"; under "interval" and "none", written to the OS
 * whether durable yet or not), and writes become visible in LSN order. Conditions are
 * checked against every write sequenced before, durable or not (conditions.ts), so of two
 * racing conditional writes on one version exactly one wins.
 *
 * The store reaches its log only through the WriteAheadLog seam (src/log/contract.ts): it
 * sequences writes, and applies them when the log's `onCommit` hook says they are acknowledged.
 */
import { EventEmitter } from "node:events";
import { asDiskError, LogbookError } from "../errors.js";
import { type Clock, systemClock } from "../io/index.js";
import type { CommitInfo, LogStats, WalHooks, WriteAheadLog } from "../log/index.js";
import type { StreamSpace } from "../streams/index.js";
import { encodeStreamCommand, wrongType } from "../streams/index.js";
import type { Change } from "./change.js";
import { ChangeFeed, type ChangesOptions } from "./change-feed.js";
import type { CheckpointInfo } from "./checkpoint.js";
import { Checkpointer, type CheckpointStats } from "./checkpointer.js";
import { CONDITION_HOLDS, Conditions } from "./conditions.js";
import {
  internalToKey,
  internalToValue,
  type Key,
  type KeyEncoding,
  keyToInternal,
  type ValueEncoding,
  valueToInternal,
} from "./encoding.js";
import { DEFAULT_EXPIRY_SWEEP_MS, type ExpirySweeper } from "./expiry-sweeper.js";
import { type FeedCursorFile, readFeedCursorFile } from "./feed-cursor-file.js";
import { type CursorDroppedEvent, FeedCursors } from "./feed-cursors.js";
import { checkExpiresAt, type Keyspace } from "./keyspace.js";
import { type ApplyTarget, applyEffect, forget } from "./keyspace-apply.js";
import type { InternalCondition, KeyspaceWriter } from "./keyspace-write.js";
import { encodeOperations, type Operation, SingleOperation } from "./operation.js";
import { isStreamCommand, type QueuedEffect } from "./queued-effects.js";
import type { StoreRecoveryReport } from "./recovery.js";
import { isAboveLower, isBelowUpper, type ScanOptions, scanRange } from "./scan-range.js";
import { type QueuedValue, SequencedWrites } from "./sequenced-writes.js";
import {
  isExpired,
  type SortedState,
  type Stored,
  storedExpires,
  storedExpiresAt,
  storedValue,
  storedValueBytes,
  storedVersion,
  toStored,
} from "./state.js";
import { assembleKeyspace, expiryOf } from "./store-keyspace.js";
import { HooksRelay, type OpenedStore, openStoreParts } from "./store-open.js";
import {
  checkStoreOptions,
  DEFAULT_CHECKPOINT_EVERY_BYTES,
  DEFAULT_FEED_CURSOR_LAG_BYTES_MAX,
  DEFAULT_KEY_BYTES_MAX,
  DEFAULT_VALUE_BYTES_MAX,
  type StoreOptions,
} from "./store-options.js";
import { createStreamHost, type PendingStreamCommand } from "./stream-commands.js";
import { DEFAULT_RETENTION_SWEEP_MS } from "./stream-retention.js";
import type { StreamBatchOperation } from "./stream-types.js";
import { StreamWaiters } from "./stream-waiters.js";
import { Streams } from "./streams-api.js";

export type { ScanOptions } from "./scan-range.js";
export { localLogOpener } from "./store-open.js";
export type { StoreOptions } from "./store-options.js";

export interface WriteOptions {
  /** Compare-and-set: the key's current version must be this (0: the key must not exist). */
  ifVersion?: number;
}

export interface PutOptions extends WriteOptions {
  /** When the key expires, ms since the epoch (0: never); from then on it is absent to every read. */
  expiresAt?: number;
  /** The same as a time to live from now, ms (positive); not with expiresAt. */
  ttlMs?: number;
}

/** A key's value as `get` reads it. */
export interface StoreValue<V = unknown> {
  value: V;
  version: number;
  /** When the key expires, ms since the epoch; absent when it does not. */
  expiresAt?: number;
}

export type BatchOperation<V = unknown> =
  | { type: "put"; key: Key; value: V }
  | { type: "delete"; key: Key }
  | StreamBatchOperation;

export interface BatchOptions {
  /** Conditions on any keys (not only those written): key → expected version. */
  ifVersions?: Iterable<[Key, number]> | Record<string, number>;
}

export interface StoreEntry<V = unknown> {
  key: Key;
  value: V;
  version: number;
  /** When the key expires, ms since the epoch; absent when it does not. */
  expiresAt?: number;
}

/** A consistent scan: the entries as of `lsn`, the last write applied (and durable) when it was taken. */
export interface StoreSnapshot {
  lsn: number;
  entries: AsyncGenerator<StoreEntry>;
}

export interface StoreStats extends CheckpointStats {
  keys: number;
  /** Bytes of keys and values held, and an estimate of the memory they take with their overhead. */
  keyValueBytes: number;
  memoryEstimateBytes: number;
  appliedLsn: number;
  /** Operations sequenced but not yet applied (each operation of a batch counts). */
  pendingWrites: number;
  /** Memory of the streams' in-memory entry indexes (their entries are on disk). */
  streamIndexBytes: number;
  recovery: StoreRecoveryReport;
}

/**
 * Heap one key takes beyond its key and value bytes: the two strings' headers, the version's
 * chars and the B+ tree's slots and nodes, as bench/store.ts measures it (a store of 1 M keys
 * reopened from its checkpoint). A store filled by puts measures a few bytes more per key.
 */
const ENTRY_OVERHEAD_BYTES_ESTIMATE = 65;

export interface StoreEvents {
  /** A group commit of the log was acknowledged (its records are about to be applied). */
  commit: [CommitInfo];
  /** A checkpoint was installed. */
  checkpoint: [CheckpointInfo & { durationMs: number }];
  /** A checkpoint failed; the log still holds everything, and the next one retries. */
  checkpointFailed: [unknown];
  /** The log failed: the store takes no more writes until it is reopened. */
  failure: [LogbookError];
  /** A feed cursor fell more than feedCursorLagBytesMax behind and was dropped (its readers get `error`). */
  cursorDropped: [CursorDroppedEvent];
}

/** A write's condition on one key, in the keyspace writer's form. */
function conditionOn(internal: string, ifVersion: number | undefined, key: Key): InternalCondition[] {
  return ifVersion === undefined ? [] : [[internal, ifVersion, key]];
}

/** A batch's LSN once applied, or the error of its first stream operation that failed (the others stay applied). */
function settleStreamResults(commands: readonly (PendingStreamCommand | undefined)[], lsn: number): number {
  for (const pending of commands) if (pending?.result instanceof LogbookError) throw pending.result;
  return lsn;
}

export class Store extends EventEmitter<StoreEvents> implements AsyncDisposable {
  readonly directory: string;
  private readonly log: WriteAheadLog;
  private readonly state: SortedState;
  private appliedLsn: number;
  private readonly sequenced = new SequencedWrites();
  private readonly conditions: Conditions;
  private readonly checkpointer: Checkpointer;
  /** The record of a single put or delete, described and written into the log per write (no payload of its own). */
  private readonly singleOperation = new SingleOperation();
  /** The settlers of the writer's promise being made (queueWrite): set by its executor, taken at once. */
  private settleResolve: ((lsn: number) => void) | undefined;
  private settleReject: ((error: unknown) => void) | undefined;
  private readonly captureSettlers = (resolve: (lsn: number) => void, reject: (error: unknown) => void): void => {
    this.settleResolve = resolve;
    this.settleReject = reject;
  };
  private readonly valueEncoding: ValueEncoding;
  private readonly keyEncoding: KeyEncoding;
  private readonly keyBytesMax: number;
  private readonly valueBytesMax: number;
  private readonly recoveryReport: StoreRecoveryReport;
  private keyValueBytes = 0;
  private closing: Promise<void> | undefined;
  private readonly streamSpace: StreamSpace;
  private readonly waiters = new StreamWaiters();
  /** Keys a commit applied writes to, noted only while readers are blocked (they are woken after the commit). */
  private readonly touched = new Set<string>();
  private readonly holdsString = (key: string): boolean => this.state.get(key) !== undefined;
  /** The store's streams: Redis Streams' operations, consumer groups, retention (streams-api.ts). */
  readonly streams: Streams;
  /** Named positions in the change feed that hold back the log's truncation. */
  readonly feedCursors: FeedCursors;
  private readonly feed: ChangeFeed;
  private readonly clock: Clock;
  private readonly keyspaceWriter: KeyspaceWriter;
  /** Logs the deletes of keys past their expiry time (expiry-sweeper.ts). */
  readonly expirySweeper: ExpirySweeper;
  /** Every key, string or stream, as the Redis protocol uses them (keyspace.ts). */
  readonly keyspace: Keyspace;
  private readonly applyTarget: ApplyTarget;
  private readonly deleteExpired: (keys: readonly string[]) => void;

  private constructor(opened: OpenedStore, options: StoreOptions, cursorFile: FeedCursorFile) {
    super();
    const { path, fs, log, recovered } = opened;
    this.directory = path;
    this.log = log;
    this.state = recovered.state;
    this.appliedLsn = recovered.appliedLsn;
    this.recoveryReport = recovered.report;
    this.streamSpace = recovered.streams;
    this.valueEncoding = options.valueEncoding ?? "json";
    this.keyEncoding = options.keyEncoding ?? "utf8";
    this.keyBytesMax = options.keyBytesMax ?? DEFAULT_KEY_BYTES_MAX;
    this.valueBytesMax = options.valueBytesMax ?? DEFAULT_VALUE_BYTES_MAX;
    const clock: Clock = options.clock ?? systemClock;
    this.clock = clock;
    const wallMs = () => clock.wallMs();
    this.conditions = new Conditions(this.state, this.sequenced, this.keyBytesMax, wallMs);
    this.checkpointer = new Checkpointer(
      {
        fs,
        directory: path,
        clock,
        log,
        appliedLsn: () => this.appliedLsn,
        snapshot: () => this.state.snapshot(),
        streams: this.streamSpace,
        retainFrom: (lsn) => this.feedCursors.retainFrom(lsn),
        installed: (info) => {
          if (this.listenerCount("checkpoint") > 0) this.emit("checkpoint", info);
        },
        failed: (error) => {
          if (this.listenerCount("checkpointFailed") > 0) this.emit("checkpointFailed", error);
        },
      },
      options.checkpointEveryBytes ?? DEFAULT_CHECKPOINT_EVERY_BYTES,
      recovered.manifest,
      recovered.loaded,
      recovered.loadedStreams,
    );
    this.streams = new Streams(
      createStreamHost({
        log,
        sequenced: this.sequenced,
        space: this.streamSpace,
        waiters: this.waiters,
        clock,
        valueBytesMax: this.valueBytesMax,
        keyBytesMax: this.keyBytesMax,
        keyEncoding: this.keyEncoding,
        holdsString: (key) => {
          const stored = this.state.get(key);
          return stored !== undefined && !(storedExpires(stored) && isExpired(stored, clock.wallMs()));
        },
        deleteExpired: (keys) => this.deleteExpired(keys),
        appliedLsn: () => this.appliedLsn,
        isClosed: () => this.closing !== undefined,
        queueWrite: (key, value, lsn) => this.queueWrite(key, value, lsn),
      }),
    );
    if (!log.isReadOnly) this.streams.retention.start(options.streamRetentionSweepMs ?? DEFAULT_RETENTION_SWEEP_MS);
    ({
      keyspace: this.keyspace,
      writer: this.keyspaceWriter,
      sweeper: this.expirySweeper,
      applyTarget: this.applyTarget,
      keyValueBytes: this.keyValueBytes,
      deleteExpired: this.deleteExpired,
    } = assembleKeyspace({
      state: this.state,
      streams: this.streamSpace,
      sequenced: this.sequenced,
      conditions: this.conditions,
      log,
      wallMs,
      keyBytesMax: this.keyBytesMax,
      valueBytesMax: this.valueBytesMax,
      batchBytesMax: options.batchBytesMax,
      queueWrite: (key, value, lsn) => this.queueWrite(key, value, lsn),
      bytesChanged: (delta) => {
        this.keyValueBytes += delta;
      },
      removed: (key) => {
        if (this.waiters.size > 0 && this.waiters.has(key)) this.touched.add(key);
      },
    }));
    if (!log.isReadOnly) this.expirySweeper.start(options.expirySweepMs ?? DEFAULT_EXPIRY_SWEEP_MS);
    const { recordsReplayed, bytesReplayed } = recovered.report;
    this.feedCursors = new FeedCursors(
      {
        fs,
        directory: path,
        log,
        lagBytesMax: options.feedCursorLagBytesMax ?? DEFAULT_FEED_CURSOR_LAG_BYTES_MAX,
        replayedRecordBytes: recordsReplayed > 0 ? bytesReplayed / recordsReplayed : 0,
        isClosed: () => this.closing !== undefined,
        dropped: (event) => {
          if (this.listenerCount("cursorDropped") > 0) this.emit("cursorDropped", event);
        },
      },
      cursorFile,
    );
    const { keyEncoding, valueEncoding } = this;
    this.feed = new ChangeFeed({ log, cursors: this.feedCursors, keyEncoding, valueEncoding });
  }

  /** What the log tells the store: called once per commit and once on failure, never per write. */
  private logHooks(): WalHooks {
    return {
      onCommit: (info) => {
        if (this.listenerCount("commit") > 0) this.emit("commit", info);
        this.feedCursors.noteCommit(info.lastLsn);
        this.applyUpTo(info.lastLsn);
      },
      onFailure: (error) => {
        // Fail-stop: nothing after this is acknowledged, so no sequenced write will ever apply.
        this.sequenced.failAll(error);
        if (this.listenerCount("failure") > 0) this.emit("failure", error);
      },
    };
  }

  /**
   * Opens (or creates) the store in `directory`: loads its newest usable checkpoint and replays
   * its log after it (recovery.ts). The log is the local one unless `options.openLog` opens another.
   */
  static async open(directory: string, options: StoreOptions = {}): Promise<Store> {
    if (typeof directory !== "string" || directory.length === 0) throw new TypeError("directory must be a non-empty string");
    checkStoreOptions(options);
    const relay = new HooksRelay();
    const opened = await openStoreParts(directory, options, relay);
    const cursorFile = await readFeedCursorFile(opened.fs, opened.path).catch(async (error: unknown) => {
      await opened.log.close().catch(() => undefined);
      throw asDiskError(error, `cannot read the feed cursors of ${opened.path}`, { file: opened.path });
    });
    const store = new Store(opened, options, cursorFile);
    relay.attach(store.logHooks());
    return store;
  }

  /**
   * Writes `value` under `key` (replacing a stream there); resolves with the new version once
   * durable and applied. With `expiresAt` or `ttlMs` the key expires then: absent to every read
   * from that time on, and deleted by the expiry sweeper soon after.
   */
  put(key: Key, value: unknown, options: PutOptions = {}): Promise<number> {
    if (options.expiresAt !== undefined || options.ttlMs !== undefined) return this.putExpiring(key, value, options);
    return this.writeOne("put", key, value, options.ifVersion);
  }

  private putExpiring(key: Key, value: unknown, options: PutOptions): Promise<number> {
    try {
      const expiresAt = expiryOf(options, this.clock.wallMs());
      const internal = keyToInternal(key, this.keyBytesMax);
      const encoded = valueToInternal(value, this.valueEncoding, this.valueBytesMax);
      const op = { type: "put", key: internal, value: encoded, expiresAt } as const;
      return this.keyspaceWriter.write([op], conditionOn(internal, options.ifVersion, key));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sets when `key` expires, ms since the epoch (0: never; a time already past deletes it);
   * resolves with the write's LSN, its new version, once durable and applied. A key that holds
   * nothing (or has expired) is left so; one holding a stream is refused with LOGBOOK_WRONG_TYPE.
   */
  expire(key: Key, expiresAt: number, options: WriteOptions = {}): Promise<number> {
    try {
      const at = checkExpiresAt(expiresAt, "expiresAt");
      const internal = keyToInternal(key, this.keyBytesMax);
      return this.keyspaceWriter.write(
        [{ type: "expire", key: internal, expiresAt: at }],
        conditionOn(internal, options.ifVersion, key),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Deletes `key` (a no-op write when it is absent); resolves with the write's LSN. */
  delete(key: Key, options: WriteOptions = {}): Promise<number> {
    return this.writeOne("delete", key, undefined, options.ifVersion);
  }

  /** One operation needs no array of them (see write): the common case, kept lean. */
  private writeOne(type: "put" | "delete", key: Key, value: unknown, ifVersion: number | undefined): Promise<number> {
    let internal: string;
    let encoded: string | undefined;
    let lsn: number;
    try {
      internal = keyToInternal(key, this.keyBytesMax);
      encoded = type === "put" ? valueToInternal(value, this.valueEncoding, this.valueBytesMax) : undefined;
      // Checked and sequenced in one synchronous step: no other write can come between.
      if (ifVersion !== undefined) {
        const awaitLsn = this.conditions.check(internal, ifVersion, key);
        if (awaitLsn !== CONDITION_HOLDS) {
          return this.conditions.conflictOnceApplied({ awaitLsn, internal, expected: ifVersion, key });
        }
      }
      lsn = this.log.sequence(this.singleOperation.describe(internal, encoded));
    } catch (error) {
      return Promise.reject(error);
    }
    return this.queueWrite(internal, encoded, lsn);
  }

  /** Applies all operations atomically, or none (a failed condition rejects the whole batch). */
  batch(operations: readonly BatchOperation[], options: BatchOptions = {}): Promise<number> {
    if (!Array.isArray(operations)) return Promise.reject(new TypeError("batch takes an array of operations"));
    const conditions: [Key, number][] = [];
    const given = options.ifVersions;
    if (given !== undefined) {
      const pairs = Symbol.iterator in Object(given) ? [...(given as Iterable<[Key, number]>)] : Object.entries(given);
      for (const [key, version] of pairs) conditions.push([key, version]);
    }
    return this.write(operations, conditions);
  }

  private write(operations: readonly BatchOperation[], conditions: [Key, number][]): Promise<number> {
    let encoded: Operation[];
    let lsn: number;
    const commands: (PendingStreamCommand | undefined)[] = [];
    try {
      encoded = this.encodeWrite(operations, commands);
      // Checked and sequenced in one synchronous step: no other write can come between.
      const conflict = this.conditions.checkAll(conditions);
      if (conflict !== undefined) return this.conditions.conflictOnceApplied(conflict);
      lsn = this.log.sequence([encodeOperations(encoded)]);
    } catch (error) {
      return Promise.reject(error);
    }
    // One LSN for all: the writer is settled with the last.
    const last = encoded.length - 1;
    const queued = (i: number) => {
      const op = encoded[i] as Operation;
      return op.type === "put" ? op.value : op.type === "stream" ? commands[i] : undefined;
    };
    for (let i = 0; i < last; i++) this.sequenced.add((encoded[i] as Operation).key, queued(i), lsn);
    const written = this.queueWrite((encoded[last] as Operation).key, queued(last), lsn);
    return commands.length === 0 ? written : written.then((at) => settleStreamResults(commands, at));
  }

  /** A write's operations, checked and encoded (else it throws). */
  private encodeWrite(operations: readonly BatchOperation[], commands: (PendingStreamCommand | undefined)[]): Operation[] {
    if (operations.length === 0) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "a write needs at least one operation");
    const encoded: Operation[] = operations.map((op, i) => {
      if (typeof op !== "object" || op === null) throw new TypeError("an operation must be an object");
      const key = keyToInternal(op.key, this.keyBytesMax);
      if (op.type === "put")
        return { type: "put", key, value: valueToInternal(op.value, this.valueEncoding, this.valueBytesMax) };
      if (op.type === "delete") return { type: "delete", key };
      if (op.type === "streamAdd" || op.type === "streamAck" || op.type === "streamDelete") {
        const command = this.streams.commandFor(op);
        commands[i] = { command, result: undefined };
        return { type: "stream", key, body: encodeStreamCommand(command) };
      }
      throw new TypeError(`unknown operation type ${String((op as { type: unknown }).type)}`);
    });
    return encoded;
  }

  /**
   * Queues a sequenced write to be applied and returns its writer's promise, which the queue
   * resolves with `lsn` once the write is durable and applied, or rejects if the log fails first.
   */
  private queueWrite(key: string, value: QueuedValue, lsn: number): Promise<number> {
    const acknowledged = new Promise<number>(this.captureSettlers);
    this.sequenced.add(key, value, lsn, this.settleResolve, this.settleReject);
    return acknowledged;
  }

  /**
   * The version a condition would be checked against now: that of the latest write sequenced
   * on `key`, durable or not (0: absent). Reading it and then writing with `ifVersion` in the
   * same synchronous step cannot be raced by another write, and the write lands after the one
   * it names. It may name a write not yet acknowledged, which a crash can still take back (and its
   * LSN be given to another write): to show or keep a version, read it with `get`.
   */
  versionOf(key: Key): number {
    return this.conditions.currentVersion(keyToInternal(key, this.keyBytesMax));
  }

  /** Applies, in LSN order, the sequenced writes the log has acknowledged up to `lsn`, then wakes their writers. */
  private applyUpTo(lsn: number): void {
    this.sequenced.drainUpTo(lsn, this.applyOne);
    this.appliedLsn = lsn;
    if (this.touched.size > 0) {
      this.waiters.wake(this.touched);
      this.touched.clear();
    }
    this.checkpointer.maybeStart();
  }

  private readonly applyOne = (key: string, value: QueuedValue, lsn: number): void => {
    if (this.waiters.size > 0 && this.waiters.has(key)) this.touched.add(key);
    if (typeof value === "object") {
      if (isStreamCommand(value)) {
        const pending = value as PendingStreamCommand;
        pending.result = this.streamSpace.apply(key, pending.command, this.holdsString);
      } else {
        applyEffect(this.applyTarget, key, value as QueuedEffect);
      }
      return;
    }
    // A put or a delete replaces or removes whatever the key held, a stream too.
    if (this.streamSpace.size > 0) this.streamSpace.drop(key);
    const before = value === undefined ? this.state.delete(key) : this.state.set(key, toStored(value, lsn));
    if (before !== undefined) {
      if (storedExpires(before)) forget(this.applyTarget, key, before);
      else this.keyValueBytes -= key.length + storedValueBytes(before);
    }
    if (value !== undefined) this.keyValueBytes += key.length + value.length;
  };

  /** The key's value, version and expiry time (when it has one); undefined when absent or past its expiry time. */
  getSync(key: Key): StoreValue | undefined {
    const internal = keyToInternal(key, this.keyBytesMax);
    const stored = this.state.get(internal);
    if (stored === undefined) {
      if (this.streamSpace.size > 0 && this.streamSpace.get(internal) !== undefined) throw wrongType(String(key));
      return undefined;
    }
    if (storedExpires(stored)) return this.expiringValue(stored, this.clock.wallMs());
    return { value: internalToValue(storedValue(stored), this.valueEncoding), version: storedVersion(stored) };
  }

  async get(key: Key): Promise<StoreValue | undefined> {
    return this.getSync(key);
  }

  /** A value with an expiry time as reads give it: undefined once the time has come. */
  private expiringValue(stored: Stored, nowMs: number): StoreValue | undefined {
    if (isExpired(stored, nowMs)) return undefined;
    const value = internalToValue(storedValue(stored), this.valueEncoding);
    return { value, version: storedVersion(stored), expiresAt: storedExpiresAt(stored) };
  }

  /** Entries in key order (byte order of their UTF-8 or binary form) within the bounds, from a snapshot. */
  async *scan(options: ScanOptions = {}): AsyncGenerator<StoreEntry> {
    yield* this.scanEntries(this.state.snapshot(), options);
  }

  /**
   * A scan of the state as of one LSN, taken now, which the change feed continues:
   * `changes({ from: snapshot.lsn + 1 })` hands out every write after it. Resolves once that
   * LSN is durable, so the snapshot holds nothing a crash could take back.
   */
  async snapshot(options: ScanOptions = {}): Promise<StoreSnapshot> {
    const lsn = this.appliedLsn;
    const entries = this.scanEntries(this.state.snapshot(), options);
    if (lsn > this.log.durableLsn) await this.log.waitFor(lsn, "durable");
    return { lsn, entries };
  }

  /** The store's writes as changes, in LSN order, durable ones only, following new ones (change-feed.ts). */
  changes(options: ChangesOptions = {}): AsyncGenerator<Change> {
    return this.feed.changes(options);
  }

  private async *scanEntries(snapshot: SortedState, options: ScanOptions): AsyncGenerator<StoreEntry> {
    const { limit = Number.POSITIVE_INFINITY, reverse = false, signal } = options;
    if (limit !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "limit must be a non-negative integer");
    }
    const range = scanRange(options, (key) => keyToInternal(key, this.keyBytesMax));
    const nowMs = this.clock.wallMs();
    let count = 0;
    for (const [key, stored] of snapshot.entries(reverse ? range.upper : range.lower, reverse)) {
      if (count >= limit) return;
      if (signal?.aborted) throw new LogbookError("LOGBOOK_ABORTED", "scan was aborted", { cause: signal.reason });
      const aboveLower = isAboveLower(range, key);
      const belowUpper = isBelowUpper(range, key);
      if (reverse ? !aboveLower : !belowUpper) return;
      if (reverse ? !belowUpper : !aboveLower) continue;
      if (storedExpires(stored)) {
        const live = this.expiringValue(stored, nowMs);
        if (live === undefined) continue;
        count++;
        yield { key: internalToKey(key, this.keyEncoding), ...live };
        continue;
      }
      count++;
      yield {
        key: internalToKey(key, this.keyEncoding),
        value: internalToValue(storedValue(stored), this.valueEncoding),
        version: storedVersion(stored),
      };
    }
  }

  /**
   * Writes the state as of the last applied write to a checkpoint file, installs it in the
   * manifest, and frees the log segments that only the previous checkpoint still needed.
   * Writers go on meanwhile. Resolves with the checkpoint; with nothing applied since the
   * newest one, resolves with that one and leaves the manifest, the files and the log alone.
   */
  checkpoint(): Promise<CheckpointInfo | undefined> {
    if (this.log.isReadOnly) return Promise.reject(new LogbookError("LOGBOOK_READ_ONLY", "the store is open read-only"));
    return this.checkpointer.checkpoint();
  }

  get recovery(): StoreRecoveryReport {
    return this.recoveryReport;
  }

  /** The error of the last automatic checkpoint that failed, if any. */
  get lastCheckpointError(): unknown {
    return this.checkpointer.lastCheckpointError;
  }

  stats(): StoreStats {
    const checkpoints = this.checkpointer.stats();
    return {
      keys: this.state.size,
      keyValueBytes: this.keyValueBytes,
      memoryEstimateBytes: this.keyValueBytes + this.state.size * ENTRY_OVERHEAD_BYTES_ESTIMATE,
      appliedLsn: this.appliedLsn,
      pendingWrites: this.sequenced.size,
      streamIndexBytes: this.streamSpace.indexBytes,
      checkpoints: checkpoints.checkpoints,
      checkpointsWritten: checkpoints.checkpointsWritten,
      lastCheckpoint: checkpoints.lastCheckpoint,
      checkpointRunning: checkpoints.checkpointRunning,
      logBytesSinceCheckpoint: checkpoints.logBytesSinceCheckpoint,
      recovery: this.recoveryReport,
    };
  }

  /** The log under the store, for inspection (its stats, LSNs). */
  get logStats(): LogStats {
    return this.log.stats();
  }

  /** Why the store can no longer write (its log failed: fsync error, disk full), if it can't. */
  get failure(): LogbookError | undefined {
    return this.log.failure;
  }

  get isReadOnly(): boolean {
    return this.log.isReadOnly;
  }

  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  get checkpointLsn(): number {
    return this.checkpointer.checkpointLsn;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.streams.retention.stop();
      this.expirySweeper.stop();
      this.feed.close();
      await this.feedCursors.settle();
      await this.checkpointer.stop();
      await this.log.close();
      // Blocked readers return what they have (nothing); their next read meets a closed store.
      this.waiters.wakeAll();
      await this.streamSpace.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
