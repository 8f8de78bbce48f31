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
import { KeyspaceState } from "./keyspace-state.js";
import { KeyspaceWriter } from "./keyspace-write.js";
import type { QueuedValue, SequencedWrites } from "./sequenced-writes.js";
import { type SortedState, storedExpires, storedExpiresAt } from "./state.js";

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
}

/** Assembles the keyspace over the store's state, with the expiry times of the state as loaded indexed. */
export function assembleKeyspace(inputs: KeyspaceInputs): StoreKeyspace {
  const { state, streams, sequenced, conditions, log, wallMs } = inputs;
  const expiries = new ExpiryIndex();
  for (const [key, stored] of state.entries(undefined, false)) {
    if (storedExpires(stored)) expiries.add(key, storedExpiresAt(stored));
  }
  const view = new KeyspaceState(state, streams, sequenced);
  const writer = new KeyspaceWriter({ log, sequenced, conditions, view, wallMs, queueWrite: inputs.queueWrite });
  const { keyBytesMax, valueBytesMax } = inputs;
  const keyspace = new Keyspace({ state, streams, view, conditions, writer, wallMs, keyBytesMax, valueBytesMax });
  const sweepBytesMax = Math.floor((inputs.batchBytesMax ?? Number.POSITIVE_INFINITY) / 2);
  const sweeper = new ExpirySweeper({
    index: expiries,
    view,
    writer,
    wallMs,
    keyBytesMax: Math.min(EXPIRY_SWEEP_KEY_BYTES_MAX, sweepBytesMax),
  });
  const applyTarget: ApplyTarget = { state, streams, expiries, bytesChanged: inputs.bytesChanged, removed: inputs.removed };
  return { keyspace, writer, sweeper, applyTarget };
}

/** The expiry time `put`'s options ask for (ms since the epoch), checked: `expiresAt`, or `ttlMs` (positive) from `nowMs`. */
export function expiryOf(options: { expiresAt?: number; ttlMs?: number }, nowMs: number): number {
  const { expiresAt, ttlMs } = options;
  if (ttlMs === undefined) return checkExpiresAt(expiresAt, "expiresAt");
  if (expiresAt !== undefined) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "give expiresAt or ttlMs, not both");
  if (checkExpiresAt(ttlMs, "ttlMs") === 0) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "ttlMs must be positive");
  return checkExpiresAt(nowMs + ttlMs, "ttlMs");
}
