/**
 * What a key holds, as the keyspace reads it (keyspace.ts): in the applied state (acknowledged
 * writes), or in the newest one (every write sequenced so far, from the pending overlay in
 * sequenced-writes.ts). Expiry times are reported, not applied: the caller decides by its clock.
 */
import type { StreamSpace } from "../streams/index.js";
import { StoredWrite } from "./queued-effects.js";
import type { SequencedWrites } from "./sequenced-writes.js";
import { type SortedState, type Stored, storedExpiresAt, storedValue, storedVersion } from "./state.js";

/** A string key's value (a binary string), version and expiry time (ms since the epoch; 0: none). */
export interface KeyspaceEntry {
  value: string;
  version: number;
  expiresAt: number;
}

/** What a key holding a stream reads as. */
export const HOLDS_STREAM = "stream";
/** A string's entry, HOLDS_STREAM, or undefined when the key holds nothing. */
export type KeyState = KeyspaceEntry | typeof HOLDS_STREAM | undefined;

export function entryOf(stored: Stored): KeyspaceEntry {
  return { value: storedValue(stored), version: storedVersion(stored), expiresAt: storedExpiresAt(stored) };
}

export class KeyspaceState {
  constructor(
    private readonly state: SortedState,
    private readonly streams: StreamSpace,
    private readonly sequenced: SequencedWrites,
  ) {}

  /** What `key` holds once every acknowledged write is applied. */
  applied(key: string): KeyState {
    const stored = this.state.get(key);
    if (stored !== undefined) return entryOf(stored);
    return this.streams.size > 0 && this.streams.get(key) !== undefined ? HOLDS_STREAM : undefined;
  }

  /**
   * What `key` holds once every write sequenced so far is applied. A queued stream command is
   * taken to leave a stream unless the key holds a string before it (then it fails): one that
   * fails on a key without a stream (a group created without MKSTREAM) is misread as a stream
   * until it is applied.
   */
  newest(key: string): KeyState {
    if (this.sequenced.size === 0) return this.applied(key);
    const queued = this.sequenced.newestString(key);
    if (!queued.queued) {
      const applied = this.applied(key);
      return applied === undefined && queued.streamAfter ? HOLDS_STREAM : applied;
    }
    const { value } = queued;
    if (value === undefined) return queued.streamAfter ? HOLDS_STREAM : undefined;
    if (value instanceof StoredWrite) return entryOf(value.stored);
    return { value, version: queued.lsn, expiresAt: 0 };
  }
}
