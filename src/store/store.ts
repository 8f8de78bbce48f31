/**
 * The key-value store on the log: the front door of src/store.
 *
 * A write is checked and sequenced at once (its LSN is its version), logged, and applied to
 * the in-memory state only once the log acknowledges it: readers never see a write before it
 * is acknowledged (durable under sync "always"; under "interval" and "none", written to the OS
 * whether durable yet or not), and writes become visible in LSN order. Conditions are
 * checked against every write sequenced before, durable or not (sequenced-writes.ts), so of
 * two racing conditional writes on one version exactly one wins. A conflict is reported with
 * the applied version only: one that fails because of writes not yet applied is rejected once
 * they are (or with the log's failure), never before.
 */
import { EventEmitter } from "node:events";
import { join, resolve as resolvePath } from "node:path";
import { assert } from "../assert.js";
import { breakage } from "../breakage.js";
import { asDiskError, isLogbookError, LogbookError } from "../errors.js";
import { type Clock, systemClock } from "../io/clock.js";
import type { FileSystem } from "../io/file-system.js";
import { NodeFileSystem } from "../io/node-file-system.js";
import type { CommitInfo } from "../log/contract.js";
import { Log } from "../log/log.js";
import type { LogOptions } from "../log/options.js";
import { type CheckpointInfo, writeCheckpoint } from "./checkpoint.js";
import {
  internalToKey,
  internalToValue,
  type Key,
  type KeyEncoding,
  keyToInternal,
  prefixEnd,
  type ValueEncoding,
  valueToInternal,
} from "./encoding.js";
import { type Manifest, writeManifest } from "./manifest.js";
import { encodeOperations, type Operation, SingleOperation } from "./operation.js";
import { readStoreManifest, recoverStore, requiredFromLsnOf, type StoreRecoveryReport } from "./recovery.js";
import { SequencedWrites } from "./sequenced-writes.js";
import { type SortedState, storedValue, storedValueBytes, storedVersion, toStored } from "./state.js";
import { createDirectoryDurably, holdsCheckpoints } from "./store-directory.js";

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
  readOnly?: boolean;
}

export interface WriteOptions {
  /** Compare-and-set: the key's current version must be this (0: the key must not exist). */
  ifVersion?: number;
}

export type BatchOperation<V = unknown> = { type: "put"; key: Key; value: V } | { type: "delete"; key: Key };

export interface BatchOptions {
  /** Conditions on any keys (not only those written): key → expected version. */
  ifVersions?: Iterable<[Key, number]> | Record<string, number>;
}

export interface StoreEntry<V = unknown> {
  key: Key;
  value: V;
  version: number;
}

export interface ScanOptions {
  prefix?: Key;
  gt?: Key;
  gte?: Key;
  lt?: Key;
  lte?: Key;
  limit?: number;
  reverse?: boolean;
  signal?: AbortSignal;
}

export interface StoreStats {
  keys: number;
  /** Bytes of keys and values held, and an estimate of the memory they take with their overhead. */
  keyValueBytes: number;
  memoryEstimateBytes: number;
  appliedLsn: number;
  /** Operations sequenced but not yet applied (each operation of a batch counts). */
  pendingWrites: number;
  /** Checkpoints kept in the manifest (the newest and its fallback). */
  checkpoints: number;
  /** Checkpoints written since the store was opened. */
  checkpointsWritten: number;
  lastCheckpoint: (CheckpointInfo & { atMs: number; durationMs: number }) | undefined;
  checkpointRunning: boolean;
  logBytesSinceCheckpoint: number;
  recovery: StoreRecoveryReport;
}

const DEFAULT_KEY_BYTES_MAX = 4096;
const DEFAULT_VALUE_BYTES_MAX = 1024 * 1024;
const DEFAULT_CHECKPOINT_EVERY_BYTES = 64 * 1024 * 1024;
/** Measured overhead of one key in memory beyond its key and value bytes (bench/store.ts, 1 M keys). */
const ENTRY_OVERHEAD_BYTES_ESTIMATE = 117;

/** What checkCondition answers when the condition holds; any other answer is an LSN (LSNs start at 1). */
const CONDITION_HOLDS = 0;

/** A condition that failed only because of writes not yet applied, up to `awaitLsn`. */
interface PendingConflict {
  awaitLsn: number;
  internal: string;
  expected: number;
  key: Key;
}

function invalidOption(message: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_OPTION", message);
}

export interface StoreEvents {
  /** A group commit of the log was acknowledged (its records are about to be applied). */
  commit: [CommitInfo];
  /** A checkpoint was installed. */
  checkpoint: [CheckpointInfo & { durationMs: number }];
  /** A checkpoint failed; the log still holds everything, and the next one retries. */
  checkpointFailed: [unknown];
  /** The log failed: the store takes no more writes until it is reopened. */
  failure: [LogbookError];
}

export class Store extends EventEmitter<StoreEvents> implements AsyncDisposable {
  readonly directory: string;
  private readonly fs: FileSystem;
  private readonly clock: Clock;
  private readonly log: Log;
  private state: SortedState;
  private appliedLsn: number;
  private manifest: Manifest;
  /** The newest checkpoint known to load: the one recovery loaded, then each one installed. The next one's fallback. */
  private newestUsable: CheckpointInfo | undefined;
  private readonly sequenced = new SequencedWrites();
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
  private readonly checkpointEveryBytes: number;
  private readonly recoveryReport: StoreRecoveryReport;
  private keyValueBytes = 0;
  private logBytesAtCheckpoint = 0;
  private checkpointing: Promise<CheckpointInfo | undefined> | undefined;
  private lastCheckpoint: StoreStats["lastCheckpoint"];
  private checkpointError: unknown;
  private checkpointCount = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    directory: string,
    fs: FileSystem,
    log: Log,
    recovered: Awaited<ReturnType<typeof recoverStore>>,
    options: StoreOptions,
  ) {
    super();
    this.directory = directory;
    this.fs = fs;
    this.clock = options.clock ?? systemClock;
    this.log = log;
    this.state = recovered.state;
    this.appliedLsn = recovered.appliedLsn;
    this.manifest = recovered.manifest;
    this.newestUsable = recovered.loaded;
    this.recoveryReport = recovered.report;
    this.valueEncoding = options.valueEncoding ?? "json";
    this.keyEncoding = options.keyEncoding ?? "utf8";
    this.keyBytesMax = options.keyBytesMax ?? DEFAULT_KEY_BYTES_MAX;
    this.valueBytesMax = options.valueBytesMax ?? DEFAULT_VALUE_BYTES_MAX;
    this.checkpointEveryBytes = options.checkpointEveryBytes ?? DEFAULT_CHECKPOINT_EVERY_BYTES;
    for (const [key, stored] of this.state.entries(undefined, false)) this.keyValueBytes += key.length + storedValueBytes(stored);
    this.logBytesAtCheckpoint = 0;
    log.on("commit", (info) => {
      if (this.listenerCount("commit") > 0) this.emit("commit", info);
      this.applyUpTo(info.lastLsn);
    });
    log.on("failure", (error) => {
      // Fail-stop: nothing after this is acknowledged, so no sequenced write will ever apply.
      this.sequenced.failAll(error);
      if (this.listenerCount("failure") > 0) this.emit("failure", error);
    });
  }

  static async open(directory: string, options: StoreOptions = {}): Promise<Store> {
    if (typeof directory !== "string" || directory.length === 0) throw new TypeError("directory must be a non-empty string");
    Store.checkOptions(options);
    const path = resolvePath(directory);
    const fs = options.fileSystem ?? new NodeFileSystem();
    const readOnly = options.readOnly === true;
    const hasCheckpoints = await Store.prepareDirectory(fs, path, readOnly).catch((error: unknown) =>
      Promise.reject(asDiskError(error, `cannot create ${path}`, { file: path })),
    );
    const manifest = await readStoreManifest(fs, path).catch((error: unknown) =>
      Promise.reject(asDiskError(error, `cannot read the manifest of ${path}`, { file: path })),
    );
    const log = await Log.open(join(path, "log"), {
      fileSystem: fs,
      readOnly,
      // The newest checkpoint holds what the records up to it wrote: damage among them is
      // reported, not fatal (recovery.ts; a fallback to an older checkpoint needs them again).
      requiredFromLsn: requiredFromLsnOf(manifest),
      // A store with checkpoints whose log is gone is refused below, not given an empty log.
      create: !readOnly && !hasCheckpoints,
      // Replay reads and checks every record after the checkpoint; scanning them all once
      // more at open would double the cost of recovery. Older segments are checked if read.
      verifyOnOpen: "tail",
      ...(options.sync === undefined ? {} : { sync: options.sync }),
      ...(options.syncIntervalMs === undefined ? {} : { syncIntervalMs: options.syncIntervalMs }),
      ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
      ...(options.preallocate === undefined ? {} : { preallocate: options.preallocate }),
      ...(options.batchBytesMax === undefined ? {} : { batchBytesMax: options.batchBytesMax }),
      ...(options.commitOnEventLoop === undefined ? {} : { commitOnEventLoop: options.commitOnEventLoop }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    }).catch((error: unknown) => {
      if (!hasCheckpoints || !isLogbookError(error, "LOGBOOK_NOT_FOUND")) throw error;
      throw new LogbookError(
        "LOGBOOK_CORRUPTION",
        `the store in ${path} has checkpoints but no log: it ends at LSN 0, before them, and the writes after them are lost`,
        { file: join(path, "log"), cause: error },
      );
    });
    try {
      const recovered = await recoverStore(fs, path, log, manifest);
      return new Store(path, fs, log, recovered, options);
    } catch (error) {
      await log.close().catch(() => undefined);
      // (A read EIO of the manifest or a checkpoint escaped untyped before: the simulator's opens under faults.)
      throw asDiskError(error, `recovering the store in ${path} failed`, { file: path });
    }
  }

  /** Creates the directory of a writable store; resolves whether it holds checkpoints (a store was there). */
  private static async prepareDirectory(fs: FileSystem, path: string, readOnly: boolean): Promise<boolean> {
    if (!readOnly) await createDirectoryDurably(fs, path);
    return holdsCheckpoints(fs, path);
  }

  private static checkOptions(options: StoreOptions): void {
    if (typeof options !== "object" || options === null) throw invalidOption("options must be an object");
    const { valueEncoding, keyEncoding } = options;
    if (valueEncoding !== undefined && !["json", "utf8", "binary"].includes(valueEncoding)) {
      throw invalidOption(`valueEncoding must be json, utf8 or binary, got ${String(valueEncoding)}`);
    }
    if (keyEncoding !== undefined && !["utf8", "binary"].includes(keyEncoding)) {
      throw invalidOption(`keyEncoding must be utf8 or binary, got ${String(keyEncoding)}`);
    }
    for (const name of ["keyBytesMax", "valueBytesMax", "checkpointEveryBytes"] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
        throw invalidOption(`${name} must be a non-negative integer`);
    }
  }

  /** Writes `value` under `key`; resolves with the new version once durable and applied. */
  put(key: Key, value: unknown, options: WriteOptions = {}): Promise<number> {
    return this.writeOne("put", key, value, options.ifVersion);
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
        const awaitLsn = this.checkCondition(internal, ifVersion, key);
        if (awaitLsn !== CONDITION_HOLDS) return this.conflictOnceApplied({ awaitLsn, internal, expected: ifVersion, key });
      }
      lsn = this.log.sequenceEncoded(this.singleOperation.describe(internal, encoded));
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
    try {
      encoded = this.encodeWrite(operations);
      // Checked and sequenced in one synchronous step: no other write can come between.
      const conflict = this.checkConditions(conditions);
      if (conflict !== undefined) return this.conflictOnceApplied(conflict);
      lsn = this.log.sequenceDetached([encodeOperations(encoded)]);
    } catch (error) {
      return Promise.reject(error);
    }
    // One LSN for all: the writer is settled with the last.
    const last = encoded.length - 1;
    for (let i = 0; i < last; i++) {
      const op = encoded[i] as Operation;
      this.sequenced.add(op.key, op.type === "put" ? op.value : undefined, lsn);
    }
    const op = encoded[last] as Operation;
    return this.queueWrite(op.key, op.type === "put" ? op.value : undefined, lsn);
  }

  /** A write's operations, checked and encoded (else it throws). */
  private encodeWrite(operations: readonly BatchOperation[]): Operation[] {
    if (operations.length === 0) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "a write needs at least one operation");
    const encoded: Operation[] = operations.map((op) => {
      if (typeof op !== "object" || op === null) throw new TypeError("an operation must be an object");
      const key = keyToInternal(op.key, this.keyBytesMax);
      if (op.type === "put")
        return { type: "put", key, value: valueToInternal(op.value, this.valueEncoding, this.valueBytesMax) };
      if (op.type === "delete") return { type: "delete", key };
      throw new TypeError(`unknown operation type ${String((op as { type: unknown }).type)}`);
    });
    return encoded;
  }

  /**
   * Checks a batch's conditions (checkCondition): throws at the first that fails against the
   * applied state; else answers the first that fails only because of writes not yet applied,
   * to be reported once the newest of those on any of its keys is applied; else undefined.
   */
  private checkConditions(conditions: [Key, number][]): PendingConflict | undefined {
    const checked = conditions.map(([key, expected]) => [keyToInternal(key, this.keyBytesMax), expected, key] as const);
    let conflict: PendingConflict | undefined;
    for (const [internal, expected, key] of checked) {
      const awaitLsn = this.checkCondition(internal, expected, key);
      if (awaitLsn === CONDITION_HOLDS) continue;
      if (conflict === undefined) conflict = { awaitLsn, internal, expected, key };
      else conflict.awaitLsn = Math.max(conflict.awaitLsn, awaitLsn);
    }
    return conflict;
  }

  /**
   * Checks that `internal`'s version, counting every write sequenced so far, is `expected`, and
   * answers CONDITION_HOLDS if so. If it is not only because of writes not yet applied (the
   * applied version is `expected`), answers the LSN of the newest of them on the key: the
   * conflict may not be reported before that write settles, as a crash could still take it
   * back (and its LSN go to another write), and a retry reading the applied state would
   * conflict again at once. Otherwise throws LOGBOOK_CONFLICT with the applied version.
   */
  private checkCondition(internal: string, expected: number, key: Key): number {
    if (!Number.isSafeInteger(expected) || expected < 0) {
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `ifVersion must be a non-negative integer, got ${String(expected)}`);
    }
    if (this.currentVersion(internal) === expected) return CONDITION_HOLDS;
    const pendingLsn = this.sequenced.latestLsnOf(internal);
    if (pendingLsn === undefined || this.appliedVersion(internal) !== expected) throw this.conflict(internal, expected, key);
    return pendingLsn;
  }

  /**
   * A conflict with writes sequenced but not yet applied: rejects once every write up to
   * `awaitLsn` is applied, with the version applied then (the one a read returns), or with the
   * log's failure if it fails first (then those writes are never acknowledged).
   */
  private conflictOnceApplied(conflict: PendingConflict): Promise<number> {
    const { awaitLsn, internal, expected, key } = conflict;
    return new Promise<number>((_resolve, reject) => {
      this.sequenced.whenApplied(awaitLsn, () => reject(this.conflict(internal, expected, key)), reject);
    });
  }

  /** LOGBOOK_CONFLICT naming the applied version of the key: the one a read answers, never a write not yet acknowledged. */
  private conflict(internal: string, expected: number, key: Key): LogbookError {
    const applied = this.appliedVersion(internal);
    return new LogbookError("LOGBOOK_CONFLICT", `version of key is ${applied}, expected ${expected}`, {
      key: typeof key === "string" ? key : Buffer.from(key).toString("hex"),
      currentVersion: applied,
    });
  }

  /**
   * Queues a sequenced write to be applied and returns its writer's promise, which the queue
   * resolves with `lsn` once the write is durable and applied, or rejects if the log fails first.
   */
  private queueWrite(key: string, value: string | undefined, lsn: number): Promise<number> {
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
    return this.currentVersion(keyToInternal(key, this.keyBytesMax));
  }

  /** The version a condition is checked against: the latest sequenced write, durable or not. */
  private currentVersion(key: string): number {
    const sequenced = this.sequenced.versionOf(key);
    return sequenced === undefined ? this.appliedVersion(key) : sequenced;
  }

  /** The version of the latest write applied to `key` (0: absent): acknowledged, what `get` answers. */
  private appliedVersion(key: string): number {
    const stored = this.state.get(key);
    return stored === undefined ? 0 : storedVersion(stored);
  }

  /** Applies, in LSN order, the sequenced writes the log has acknowledged up to `lsn`, then wakes their writers. */
  private applyUpTo(lsn: number): void {
    this.sequenced.drainUpTo(lsn, this.applyOne);
    this.appliedLsn = lsn;
    this.maybeCheckpoint();
  }

  private readonly applyOne = (key: string, value: string | undefined, lsn: number): void => {
    const before = value === undefined ? this.state.delete(key) : this.state.set(key, toStored(value, lsn));
    if (before !== undefined) this.keyValueBytes -= key.length + storedValueBytes(before);
    if (value !== undefined) this.keyValueBytes += key.length + value.length;
  };

  getSync(key: Key): { value: unknown; version: number } | undefined {
    const stored = this.state.get(keyToInternal(key, this.keyBytesMax));
    if (stored === undefined) return undefined;
    return { value: internalToValue(storedValue(stored), this.valueEncoding), version: storedVersion(stored) };
  }

  async get(key: Key): Promise<{ value: unknown; version: number } | undefined> {
    return this.getSync(key);
  }

  /** Entries in key order (byte order of their UTF-8 or binary form) within the bounds, from a snapshot. */
  async *scan(options: ScanOptions = {}): AsyncGenerator<StoreEntry> {
    const { limit = Number.POSITIVE_INFINITY, reverse = false, signal } = options;
    if (limit !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(limit) || limit < 0)) {
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "limit must be a non-negative integer");
    }
    const bound = (key: Key | undefined) => (key === undefined ? undefined : keyToInternal(key, this.keyBytesMax));
    let lower = bound(options.gte);
    let lowerInclusive = true;
    const gt = bound(options.gt);
    if (gt !== undefined && (lower === undefined || gt >= lower)) {
      lower = gt;
      lowerInclusive = false;
    }
    let upper = bound(options.lte);
    let upperInclusive = true;
    const lt = bound(options.lt);
    if (lt !== undefined && (upper === undefined || lt <= upper)) {
      upper = lt;
      upperInclusive = false;
    }
    const prefix = bound(options.prefix);
    if (prefix !== undefined) {
      if (lower === undefined || prefix > lower) {
        lower = prefix;
        lowerInclusive = true;
      }
      const end = prefixEnd(prefix);
      if (end !== undefined && (upper === undefined || end <= upper)) {
        upper = end;
        upperInclusive = false;
      }
    }
    const snapshot = this.state.snapshot();
    let count = 0;
    for (const [key, stored] of snapshot.entries(reverse ? upper : lower, reverse)) {
      if (count >= limit) return;
      if (signal?.aborted) throw new LogbookError("LOGBOOK_ABORTED", "scan was aborted", { cause: signal.reason });
      const aboveLower = lower === undefined || key > lower || (lowerInclusive && key === lower);
      const belowUpper = upper === undefined || key < upper || (upperInclusive && key === upper);
      if (reverse ? !aboveLower : !belowUpper) return;
      if (reverse ? !belowUpper : !aboveLower) continue;
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
    if (this.checkpointing !== undefined) {
      // One at a time; a request during one gets the next one, which covers its writes.
      return this.checkpointing.then(
        () => this.checkpoint(),
        () => this.checkpoint(),
      );
    }
    const running = this.checkpointOnce()
      .catch((error: unknown) => {
        // (A checkpoint's EIO escaped raw before: test/sim/store-faults.test.ts.)
        throw asDiskError(error, `the checkpoint of ${this.directory} failed`);
      })
      .finally(() => {
        this.checkpointing = undefined;
      });
    this.checkpointing = running;
    return running;
  }

  private async checkpointOnce(): Promise<CheckpointInfo> {
    const clock = this.clock;
    const startedMs = clock.monotonicMs();
    const lsn = this.appliedLsn;
    const previous = this.newestUsable;
    // Nothing applied since the newest checkpoint: it is this one. Writing it again under the
    // same name would leave the manifest naming one file twice and free its fallback.
    if (previous?.lsn === lsn) return previous;
    assert(previous === undefined || previous.lsn < lsn, "checkpoints only move forward");
    const snapshot = this.state.snapshot();
    const logBytes = this.log.appendedBytes;
    // A checkpoint must never be ahead of the durable log: with sync "interval" or "none" a
    // power cut could otherwise lose log records the checkpoint includes, and their LSNs
    // would be handed out again. (Found by bench:store, which loads with sync "none".)
    if (lsn > 0) await this.log.waitFor(lsn, "durable");
    const info = await writeCheckpoint(this.fs, this.directory, snapshot, lsn, clock.wallMs());
    if (breakage.freeLogBeforeManifest) await this.log.truncateBefore(lsn + 1); // the deliberate bug (src/breakage.ts)
    // The fallback is the newest checkpoint known to load, not a newer one the manifest names
    // that recovery had to skip (that one is dropped, or replaced when this one has its name).
    const manifest: Manifest = { ...this.manifest, checkpoints: previous === undefined ? [info] : [info, previous] };
    await writeManifest(this.fs, this.directory, manifest);
    const dropped = this.manifest.checkpoints.filter((c) => !manifest.checkpoints.some((k) => k.file === c.file));
    this.manifest = manifest;
    this.newestUsable = info;
    for (const old of dropped) await this.fs.unlink(join(this.directory, old.file));
    if (dropped.length > 0) await this.fs.syncDirectory(this.directory);
    // Keep the log from the previous checkpoint on, so that a damaged newest one can fall back to it.
    if (previous !== undefined) await this.log.truncateBefore(previous.lsn + 1);
    this.logBytesAtCheckpoint = logBytes;
    this.lastCheckpoint = { ...info, atMs: clock.wallMs(), durationMs: clock.monotonicMs() - startedMs };
    this.checkpointCount++;
    if (this.listenerCount("checkpoint") > 0) this.emit("checkpoint", { ...info, durationMs: this.lastCheckpoint.durationMs });
    return info;
  }

  private maybeCheckpoint(): void {
    if (this.checkpointEveryBytes === 0 || this.checkpointing !== undefined || this.closing !== undefined) return;
    if (this.log.appendedBytes - this.logBytesAtCheckpoint < this.checkpointEveryBytes) return;
    this.checkpoint().catch((error: unknown) => {
      this.checkpointError = error;
      if (this.listenerCount("checkpointFailed") > 0) this.emit("checkpointFailed", error);
    });
  }

  get recovery(): StoreRecoveryReport {
    return this.recoveryReport;
  }

  /** The error of the last automatic checkpoint that failed, if any. */
  get lastCheckpointError(): unknown {
    return this.checkpointError;
  }

  stats(): StoreStats {
    return {
      keys: this.state.size,
      keyValueBytes: this.keyValueBytes,
      memoryEstimateBytes: this.keyValueBytes + this.state.size * ENTRY_OVERHEAD_BYTES_ESTIMATE,
      appliedLsn: this.appliedLsn,
      pendingWrites: this.sequenced.size,
      checkpoints: this.manifest.checkpoints.length,
      checkpointsWritten: this.checkpointCount,
      lastCheckpoint: this.lastCheckpoint,
      checkpointRunning: this.checkpointing !== undefined,
      logBytesSinceCheckpoint: this.log.appendedBytes - this.logBytesAtCheckpoint,
      recovery: this.recoveryReport,
    };
  }

  /** The log under the store, for inspection (its stats, LSNs). */
  get logStats() {
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
    return this.manifest.checkpoints[0]?.lsn ?? 0;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.checkpointing?.catch(() => undefined);
      await this.log.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
