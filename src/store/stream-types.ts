/**
 * The shapes the stream API takes and returns (streams-api.ts).
 */
import type { Key } from "./encoding.js";
import type { FieldInput, TrimOptions } from "./stream-args.js";

export interface StreamEntry {
  /** `<ms>-<seq>`. */
  id: string;
  /** Field/value pairs in the order they were added; null for a pending entry that is no longer in the stream. */
  fields: [string, string][] | null;
}

export interface AddOptions {
  /** `*` (default: from the clock), `<ms>-*`, or an explicit `<ms>-<seq>` above the stream's last ID. */
  id?: string;
  /** Do not create the stream: resolve null when it does not exist. */
  noMkStream?: boolean;
  trim?: TrimOptions;
  /** A producer's idempotency ID: an add retried with it resolves the first add's ID and adds nothing. */
  producerId?: string;
}

/** How entries and names come back: UTF-8 strings (default), or with `binary` binary strings (one char per byte). */
export interface BinaryOption {
  binary?: boolean;
}

export interface StreamReadOptions extends BinaryOption {
  count?: number;
  /** Wait up to this long for new entries when there are none (0: without a time limit). */
  blockMs?: number;
  signal?: AbortSignal;
  /** Told true each time the read starts waiting for new entries, and false when it stops waiting. */
  onBlock?: (blocked: boolean) => void;
}

export interface GroupReadOptions extends StreamReadOptions {
  /** Deliver without adding to the pending list (as if acknowledged at once). */
  noAck?: boolean;
}

export interface CreateGroupOptions {
  /** The ID after which the group starts: `$` (default: the stream's last), `0` for everything, or an ID. */
  start?: string;
  mkStream?: boolean;
  entriesRead?: number;
  /** After this many deliveries without an ack, an entry moves to `deadLetterKey` instead of being delivered again. */
  maxDeliveries?: number;
  deadLetterKey?: Key;
}

export interface ClaimOptions extends BinaryOption {
  idleMs?: number;
  timeMs?: number;
  retryCount?: number;
  force?: boolean;
  justId?: boolean;
  lastId?: string;
}

/** One stream's part of a read: its key and the entries read. */
export interface StreamRead {
  key: Key;
  entries: StreamEntry[];
}

/**
 * A stream operation inside a store batch: logged in the batch's one record with its puts and
 * deletes. Each is applied in order; one that cannot be carried out fails alone (as a command
 * inside Redis's EXEC does) and the batch rejects with its error once the record is applied.
 */
export type StreamBatchOperation =
  | { type: "streamAdd"; key: Key; fields: FieldInput; id?: string; producerId?: string }
  | { type: "streamAck"; key: Key; group: string; ids: readonly string[] }
  | { type: "streamDelete"; key: Key; ids: readonly string[] };
