/**
 * Applying what a keyspace write queued (queued-effects.ts) to the store's state, in LSN order
 * as the log acknowledges it (store.ts, applyOne): the state, the streams, the expiry index and
 * the byte count move together. Replay (recovery.ts) reaches the same state from the log.
 */
import type { StreamSpace } from "../streams/index.js";
import type { ExpiryIndex } from "./expiry-index.js";
import { type QueuedEffect, RangeDelete, StoredWrite } from "./queued-effects.js";
import { type SortedState, type Stored, storedExpires, storedExpiresAt, storedValueBytes } from "./state.js";

/** What applying changes. */
export interface ApplyTarget {
  state: SortedState;
  streams: StreamSpace;
  expiries: ExpiryIndex;
  /** Bytes of keys and values held changed by `delta`. */
  bytesChanged(delta: number): void;
  /** A key's stream, or string, was removed by a range delete (its blocked readers are woken). */
  removed(key: string): void;
}

/** Sets `key` to `stored`, replacing whatever it held (a stream too). */
export function applyStored(target: ApplyTarget, key: string, stored: Stored): void {
  if (target.streams.size > 0) target.streams.drop(key);
  const before = target.state.set(key, stored);
  if (before !== undefined) forget(target, key, before);
  if (storedExpires(stored)) target.expiries.add(key, storedExpiresAt(stored));
  target.bytesChanged(key.length + storedValueBytes(stored));
}

/** Takes what `before`, the key's previous state, counted in the byte total and the expiry index. */
export function forget(target: ApplyTarget, key: string, before: Stored): void {
  target.bytesChanged(-(key.length + storedValueBytes(before)));
  if (storedExpires(before)) target.expiries.remove(key, storedExpiresAt(before));
}

/** Applies one of the keyspace's queued effects. */
export function applyEffect(target: ApplyTarget, key: string, effect: QueuedEffect): void {
  if (effect instanceof StoredWrite) applyStored(target, key, effect.stored);
  else if (effect instanceof RangeDelete) deleteRange(target, effect);
}

/** Deletes every string and stream in the range: O(keys in range, streams). */
export function deleteRange(target: ApplyTarget, range: RangeDelete): void {
  const keys: string[] = [];
  for (const [key] of target.state.entries(range.gte, false)) {
    if (!range.covers(key)) break;
    keys.push(key);
  }
  for (const key of keys) {
    const before = target.state.delete(key);
    if (before !== undefined) forget(target, key, before);
    target.removed(key);
  }
  if (target.streams.size === 0) return;
  for (const key of [...target.streams.keys()]) {
    if (!range.covers(key)) continue;
    target.streams.drop(key);
    target.removed(key);
  }
}
