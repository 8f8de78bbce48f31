/**
 * The keyspace's parts as a store assembles them over its state, streams and pending writes:
 * the reads of the newest state, the writer every keyspace write goes through, the public
 * keyspace, the expiry index the store keeps in step as it applies writes, and the sweeper
 * that logs the deletes of expired keys. Also the checks of the library's expiry options.
 */
import { LogbookError } from "../errors.js";
import type { WriteAheadLog } from "../log/index.js";
import type { StreamSpace } from "../streams/index.js";
import type { Conditions } from "./conditions.js";
import { ExpiryIndex } from "./expiry-index.js";
import { EXPIRY_SWEEP_KEY_BYTES_MAX, ExpirySweeper } from "./expiry-sweeper.js";
import { checkExpiresAt, Keyspace } from "./keyspace.js";
import type { ApplyTarget } from "./keyspace-apply.js";
import { HOLDS_STREAM, KeyspaceState } from "./keyspace-state.js";
import { KeyspaceWriter } from "./keyspace-write.js";
import type { QueuedValue, SequencedWrites } from "./sequenced-writes.js";
import { type SortedState, storedExpires, storedExpiresAt, storedValueBytes } from "./state.js";

/** What the store gives its keyspace. */
export interface KeyspaceInputs {
  state: SortedState;
  streams: StreamSpace;
  sequenced: SequencedWrites;
  conditions: Conditions;
  log: WriteAheadLog;
  wallMs(): number;
  keyBytesMax: number;
  valueBytesMax: number;
  /** The log's largest commit, when the store was given one: a sweep's record stays well below it. */
  batchBytesMax: number | undefined;
  queueWrite(key: string, value: QueuedValue, lsn: number): Promise<number>;
  /** Bytes of keys and values held changed by `delta`, as a write was applied. */
  bytesChanged(delta: number): void;
  /** A key was removed by a range delete. */
  removed(key: string): void;
}

export interface StoreKeyspace {
  keyspace: Keyspace;
  writer: KeyspaceWriter;
  sweeper: ExpirySweeper;
  /** What applying a write changes (keyspace-apply.ts). */
  applyTarget: ApplyTarget;
  /** Bytes of the keys and values of the state as loaded. */
  keyValueBytes: number;
  /**
   * Logs the deletes of those of `keys` holding a string past its expiry time, before a stream
   * command on them is logged: to the command they hold nothing, as to reads, but applying it
   * (and replaying it) does not read the clock. Nothing is looked at while no applied key has
   * an expiry time, so streams pay nothing for the keyspace.
   */
  deleteExpired(keys: readonly string[]): void;
}

/**
 * Assembles the keyspace over the store's state as loaded, in one pass over it: its expiry
 * times go into the index, its bytes are counted.
 */
export function assembleKeyspace(inputs: KeyspaceInputs): StoreKeyspace {
  const { state, streams, sequenced, conditions, log, wallMs } = inputs;
  const expiries = new ExpiryIndex();
  let keyValueBytes = 0;
  for (const [key, stored] of state.entries(undefined, false)) {
    keyValueBytes += key.length + storedValueBytes(stored);
    if (storedExpires(stored)) expiries.add(key, storedExpiresAt(stored));
  }
  const view = new KeyspaceState(state, streams, sequenced);
  const writer = new KeyspaceWriter({ log, sequenced, conditions, view, wallMs, queueWrite: inputs.queueWrite });
  const { keyBytesMax, valueBytesMax } = inputs;
  const keyspace = new Keyspace({ state, streams, view, conditions, writer, wallMs, keyBytesMax, valueBytesMax, sequenced });
  const sweepBytesMax = Math.floor((inputs.batchBytesMax ?? Number.POSITIVE_INFINITY) / 2);
  const sweeper = new ExpirySweeper({
    index: expiries,
    view,
    writer,
    wallMs,
    keyBytesMax: Math.min(EXPIRY_SWEEP_KEY_BYTES_MAX, sweepBytesMax),
  });
  const applyTarget: ApplyTarget = { state, streams, expiries, bytesChanged: inputs.bytesChanged, removed: inputs.removed };
  const deleteExpired = (keys: readonly string[]): void => {
    if (expiries.size === 0) return;
    const nowMs = wallMs();
    const expired = keys.filter((key) => {
      const held = view.newest(key);
      return held !== undefined && held !== HOLDS_STREAM && held.expiresAt > 0 && held.expiresAt <= nowMs;
    });
    // Its failure is the log's, which fails the stream command sequenced after it too.
    if (expired.length > 0)
      writer
        .write(
          expired.map((key) => ({ type: "delete", key }) as const),
          [],
        )
        .catch(() => undefined);
  };
  return { keyspace, writer, sweeper, applyTarget, keyValueBytes, deleteExpired };
}

/** The expiry time `put`'s options ask for (ms since the epoch), checked: `expiresAt`, or `ttlMs` (positive) from `nowMs`. */
export function expiryOf(options: { expiresAt?: number; ttlMs?: number }, nowMs: number): number {
  const { expiresAt, ttlMs } = options;
  if (ttlMs === undefined) return checkExpiresAt(expiresAt, "expiresAt");
  if (expiresAt !== undefined) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "give expiresAt or ttlMs, not both");
  if (checkExpiresAt(ttlMs, "ttlMs") === 0) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "ttlMs must be positive");
  return checkExpiresAt(nowMs + ttlMs, "ttlMs");
}
