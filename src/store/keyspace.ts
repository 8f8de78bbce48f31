/**
 * The keyspace: every key of the store, holding a string or a stream, in the form the Redis
 * protocol uses (store.keyspace). Keys and values are binary strings (one char per byte, as
 * the store holds them); expiry times are ms since the epoch (0: none), by the store's clock.
 *
 * Reads come in two views. `get`, `kindOf` and `scan` read the applied state: acknowledged
 * writes only. `latest` and `kindOf(key, "latest")` read the newest state, every write
 * sequenced so far: a read of it and a `write` in one synchronous step are an atomic
 * read-modify-write, since no other write can be sequenced between them. A key past its expiry
 * time is absent to every read at once; the sweeper (expiry-sweeper.ts) logs its delete later.
 */
import { LogbookError } from "../errors.js";
import type { StreamSpace } from "../streams/index.js";
import { wrongType } from "../streams/index.js";
import type { Conditions } from "./conditions.js";
import { HOLDS_STREAM, type KeyState, type KeyspaceEntry, type KeyspaceState } from "./keyspace-state.js";
import type { InternalCondition, KeyspaceOp, KeyspaceWriter } from "./keyspace-write.js";
import type { SequencedWrites } from "./sequenced-writes.js";
import { isExpired, type SortedState, storedExpires } from "./state.js";

export type { KeyspaceEntry } from "./keyspace-state.js";
export type { KeyspaceOp } from "./keyspace-write.js";

export type KeyKind = "string" | "stream";

export interface KeyspaceWriteOptions {
  /** Conditions on any keys (internal form): key → the version it must have (0: absent), as Store.batch. */
  ifVersions?: Iterable<[string, number]>;
}

export interface KeyspaceScanOptions {
  /** The first key of the range (default: the first of all). */
  gte?: string;
  /** The end of the range, exclusive ("" or absent: no end). */
  lt?: string;
  /** The time expiry is decided at, ms since the epoch (default: the store's clock, now). */
  now?: number;
}

/** Random picks `randomKey` makes before it looks for a key that has not expired in order. */
export const RANDOM_KEY_ATTEMPTS = 16;

/** Binary strings only: one char per byte. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: every char above one byte is meant
const NOT_BINARY = /[^\u0000-\u00ff]/;

/** What the keyspace needs of its store. */
export interface KeyspaceParts {
  state: SortedState;
  streams: StreamSpace;
  view: KeyspaceState;
  conditions: Conditions;
  writer: KeyspaceWriter;
  wallMs(): number;
  keyBytesMax: number;
  valueBytesMax: number;
  sequenced: SequencedWrites;
}

function invalid(message: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_ARGUMENT", message);
}

function inRange(key: string, gte: string, lt: string): boolean {
  return key >= gte && (lt === "" || key < lt);
}

/** A live entry of a read: expired = absent, a stream = LOGBOOK_WRONG_TYPE. */
function readable(key: string, held: KeyState, nowMs: () => number): KeyspaceEntry | undefined {
  if (held === HOLDS_STREAM) throw wrongType(key);
  if (held === undefined || (held.expiresAt > 0 && held.expiresAt <= nowMs())) return undefined;
  return held;
}

export class Keyspace {
  constructor(private readonly parts: KeyspaceParts) {}

  /** The key's value, as acknowledged; undefined when absent or expired. LOGBOOK_WRONG_TYPE for a stream. */
  get(key: string): KeyspaceEntry | undefined {
    checkKeyType(key);
    return readable(key, this.parts.view.applied(key), this.parts.wallMs);
  }

  /**
   * The key's value once every write sequenced so far is applied (acknowledged or not); undefined
   * when absent or expired; LOGBOOK_WRONG_TYPE for a stream. Read it and `write` in the same
   * synchronous step for an atomic read-modify-write. Its version may be one a crash can still
   * take back: show users what `get` reads.
   */
  latest(key: string): KeyspaceEntry | undefined {
    checkKeyType(key);
    return readable(key, this.parts.view.newest(key), this.parts.wallMs);
  }

  /** What the key holds in the applied (default) or newest view; undefined when nothing, or a string past its expiry time. */
  kindOf(key: string, view: "applied" | "latest" = "applied"): KeyKind | undefined {
    checkKeyType(key);
    if (view !== "applied" && view !== "latest") throw new TypeError('view must be "applied" or "latest"');
    const held = view === "applied" ? this.parts.view.applied(key) : this.parts.view.newest(key);
    if (held === undefined || held === HOLDS_STREAM) return held;
    return held.expiresAt > 0 && held.expiresAt <= this.parts.wallMs() ? undefined : "string";
  }

  /**
   * The key's version as of every write sequenced so far (puts, deletes and expires set it to
   * their LSN; 0: absent, or past its expiry time once that write is applied): what a condition
   * is checked against.
   */
  /**
   * Settles once every write sequenced so far is applied (undefined: none is pending), or
   * rejects with the log's failure. A command that decides from `latest` to write nothing
   * answers after it, so its answer never rests on a write not yet acknowledged.
   */
  whenSequencedApplied(): Promise<void> | undefined {
    const sequenced = this.parts.sequenced;
    const lsn = sequenced.newestLsn();
    if (lsn === undefined) return undefined;
    return new Promise<void>((resolve, reject) => sequenced.whenApplied(lsn, resolve, reject));
  }

  versionOf(key: string): number {
    checkKeyType(key);
    return this.parts.conditions.currentVersion(key);
  }

  /**
   * Logs `ops` as one atomic record, sequenced before this returns; resolves with its LSN once
   * it is durable and applied. With `ifVersions`, all of it or nothing (LOGBOOK_CONFLICT as
   * Store.batch). A put replaces a string or a stream; an expire on a key holding nothing
   * changes nothing, on a stream is refused with LOGBOOK_WRONG_TYPE, and deletes the key when
   * the key has already expired or the time given has come.
   */
  write(ops: readonly KeyspaceOp[], options: KeyspaceWriteOptions = {}): Promise<number> {
    let checked: KeyspaceOp[];
    let conditions: InternalCondition[];
    try {
      checked = this.checkOps(ops);
      conditions = this.checkConditions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.parts.writer.write(checked, conditions);
  }

  /** Keys in [gte, lt) with their kind, in key order, as acknowledged, skipping those expired at `now`; from a snapshot taken now. */
  scan(options: KeyspaceScanOptions = {}): IterableIterator<{ key: string; kind: KeyKind }> {
    const { gte = "", lt = "" } = options;
    checkKeyType(gte);
    checkKeyType(lt);
    const nowMs = options.now ?? this.parts.wallMs();
    if (typeof nowMs !== "number") throw new TypeError("now must be a number");
    return scanKeys(this.parts.state.snapshot(), this.streamKeysIn(gte, lt).sort(), gte, lt, nowMs);
  }

  /** Keys (strings and streams) in [gte, lt), those past their expiry time but not yet deleted included (as Redis's DBSIZE). */
  count(gte = "", lt = ""): number {
    checkKeyType(gte);
    checkKeyType(lt);
    return this.parts.state.count(gte, lt === "" ? undefined : lt) + this.streamKeysIn(gte, lt).length;
  }

  /** A key in [gte, lt) picked at random, not past its expiry time; undefined when there is none. O(keys in range / 32 + streams). */
  randomKey(gte = "", lt = ""): string | undefined {
    checkKeyType(gte);
    checkKeyType(lt);
    const { state } = this.parts;
    const strings = state.count(gte, lt === "" ? undefined : lt);
    const streams = this.streamKeysIn(gte, lt);
    const total = strings + streams.length;
    if (total === 0) return undefined;
    const nowMs = this.parts.wallMs();
    for (let attempt = 0; attempt < RANDOM_KEY_ATTEMPTS; attempt++) {
      const rank = Math.floor(Math.random() * total);
      if (rank >= strings) return streams[rank - strings];
      const key = state.keyAtRank(gte, rank) as string;
      const stored = state.get(key);
      if (stored !== undefined && !isExpired(stored, nowMs)) return key;
    }
    // Most keys in range have expired: the first that has not, in order.
    for (const { key } of this.scan({ gte, lt, now: nowMs })) return key;
    return undefined;
  }

  private streamKeysIn(gte: string, lt: string): string[] {
    const { streams } = this.parts;
    if (streams.size === 0) return [];
    return [...streams.keys()].filter((key) => inRange(key, gte, lt));
  }

  private checkOps(ops: readonly KeyspaceOp[]): KeyspaceOp[] {
    if (!Array.isArray(ops)) throw new TypeError("write takes an array of operations");
    if (ops.length === 0) throw invalid("a write needs at least one operation");
    return ops.map((op: KeyspaceOp): KeyspaceOp => {
      if (typeof op !== "object" || op === null) throw new TypeError("an operation must be an object");
      switch (op.type) {
        case "put": {
          const expiresAt = op.expiresAt === undefined ? 0 : checkExpiresAt(op.expiresAt, "expiresAt");
          return { type: "put", key: this.checkKey(op.key), value: this.checkValue(op.value), expiresAt };
        }
        case "delete":
          return { type: "delete", key: this.checkKey(op.key) };
        case "expire":
          return { type: "expire", key: this.checkKey(op.key), expiresAt: checkExpiresAt(op.expiresAt, "expiresAt") };
        case "deleteRange":
          return { type: "deleteRange", gte: this.checkKey(op.gte), lt: this.checkKey(op.lt) };
        default:
          throw new TypeError(`unknown operation type ${String((op as { type: unknown }).type)}`);
      }
    });
  }

  private checkConditions(options: KeyspaceWriteOptions): InternalCondition[] {
    if (typeof options !== "object" || options === null) throw new TypeError("write options must be an object");
    const given = options.ifVersions;
    if (given === undefined) return [];
    if (typeof (given as Partial<Iterable<unknown>>)[Symbol.iterator] !== "function") {
      throw new TypeError("ifVersions must be an iterable of [key, version] pairs");
    }
    const conditions: InternalCondition[] = [];
    for (const pair of given) {
      if (!Array.isArray(pair)) throw new TypeError("ifVersions must be an iterable of [key, version] pairs");
      const [key, version] = pair;
      conditions.push([this.checkKey(key), version, key]);
    }
    return conditions;
  }

  private checkKey(key: string): string {
    checkKeyType(key);
    if (key.length > this.parts.keyBytesMax) invalidLength("key", key.length, "keyBytesMax", this.parts.keyBytesMax);
    if (NOT_BINARY.test(key)) throw invalid("a key must be a binary string (one char per byte, codes 0-255)");
    return key;
  }

  private checkValue(value: string): string {
    if (typeof value !== "string") throw new TypeError("a value must be a string");
    if (value.length > this.parts.valueBytesMax) invalidLength("value", value.length, "valueBytesMax", this.parts.valueBytesMax);
    if (NOT_BINARY.test(value)) throw invalid("a value must be a binary string (one char per byte, codes 0-255)");
    return value;
  }
}

function checkKeyType(key: unknown): asserts key is string {
  if (typeof key !== "string") throw new TypeError("a key must be a string");
}

function invalidLength(what: string, bytes: number, ceiling: string, max: number): never {
  throw invalid(`${what} of ${bytes} bytes exceeds ${ceiling} ${max}`);
}

/** An expiry time as given: a non-negative integer, ms since the epoch (0: none). */
export function checkExpiresAt(expiresAt: unknown, what: string): number {
  if (typeof expiresAt !== "number") throw new TypeError(`${what} must be a number`);
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw invalid(`${what} must be a non-negative integer (ms since the epoch), got ${String(expiresAt)}`);
  }
  return expiresAt;
}

/** Strings of `snapshot` and `streamKeys` (sorted) in [gte, lt), merged in key order. */
function* scanKeys(
  snapshot: SortedState,
  streamKeys: string[],
  gte: string,
  lt: string,
  nowMs: number,
): Generator<{ key: string; kind: KeyKind }> {
  let next = 0;
  for (const [key, stored] of snapshot.entries(gte, false)) {
    if (lt !== "" && key >= lt) break;
    while (next < streamKeys.length && (streamKeys[next] as string) < key)
      yield { key: streamKeys[next++] as string, kind: "stream" };
    if (storedExpires(stored) && isExpired(stored, nowMs)) continue;
    yield { key, kind: "string" };
  }
  while (next < streamKeys.length) yield { key: streamKeys[next++] as string, kind: "stream" };
}
