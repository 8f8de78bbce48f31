/**
 * What a keyspace write (keyspace.ts) queues for its key beside the plain forms (a put's encoded
 * value, undefined for a delete, a stream command): the store applies each when the log
 * acknowledges its record (store.ts), and the pending overlay (sequenced-writes.ts) answers the
 * newest state of a key from them. Each is decided when its write is sequenced, against every
 * write sequenced before it: the store applies writes in that order, and replay (recovery.ts)
 * decides the same from the log.
 */
import type { Stored } from "./state.js";

/**
 * A put with an expiry, or an expire on a key holding a string: the key's whole new state,
 * built once the write's LSN (its version) is known.
 */
export class StoredWrite {
  constructor(readonly stored: Stored) {}
}

/** A range delete: every key, string or stream, from `gte` on and below `lt` ("": no end). */
export class RangeDelete {
  constructor(
    readonly gte: string,
    readonly lt: string,
  ) {}

  covers(key: string): boolean {
    return key >= this.gte && (this.lt === "" || key < this.lt);
  }
}

/** An expire on a key that holds no string: logged (replay finds the same), and it changes nothing. */
export const NO_CHANGE: object = Object.freeze({ unchanged: true });

/** One of the above. */
export type QueuedEffect = StoredWrite | RangeDelete | typeof NO_CHANGE;

/** Whether a queued value is a stream command (the one kind of object queued that is none of the above). */
export function isStreamCommand(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    value !== NO_CHANGE &&
    !(value instanceof StoredWrite) &&
    !(value instanceof RangeDelete)
  );
}
