/**
 * Stream commands as the store logs them (docs/format.md, "Stream operation"): each mutation
 * of a stream is logged as the command that asked for it, with the wall-clock time it was
 * given, and applied in log order after it is durable. What a command does (the ID an add
 * gets, the entries a group read delivers) is decided when it is applied, from the state and
 * the command alone, so replay decides exactly the same.
 *
 * The schemas below say which fields each kind of command has, in the order command-codec.ts
 * writes them.
 */
import type { IdRequest, StreamId } from "./stream-id.js";

export type TrimStrategy = "maxlen" | "minid" | "maxbytes";

/** A trim: keep at most `threshold` entries (maxlen) or bytes (maxbytes), or none below the ID `minId` (minid). */
export interface TrimSpec {
  strategy: TrimStrategy;
  threshold: number;
  minId: StreamId;
  /** Remove whole index blocks only (`~`): cheaper, and may keep a few more than asked. */
  approximate: boolean;
  /** At most this many removed (0: no limit). */
  limit: number;
}

export interface Retention {
  maxLength: number;
  maxBytes: number;
  /** Entries whose ID's ms is older than this before a command's time are trimmed (0: no limit). */
  maxAgeMs: number;
}

/** `$`: the stream's last ID when the command is applied. */
export type GroupStart = StreamId | "$";

export type StreamCommand =
  | { kind: "add"; id: IdRequest; fields: string[]; noMkStream: boolean; trim?: TrimSpec; producerId?: string; nowMs: number }
  | { kind: "delete"; ids: StreamId[] }
  | { kind: "trim"; trim: TrimSpec }
  | { kind: "setId"; id: StreamId; entriesAdded?: number; maxDeletedId?: StreamId }
  | { kind: "setRetention"; retention: Retention; nowMs: number }
  | {
      kind: "createGroup";
      group: string;
      start: GroupStart;
      mkStream: boolean;
      entriesRead?: number;
      maxDeliveries?: number;
      deadLetterKey?: string;
    }
  | { kind: "setGroupId"; group: string; start: GroupStart; entriesRead?: number }
  | { kind: "destroyGroup"; group: string }
  | { kind: "createConsumer"; group: string; consumer: string; nowMs: number }
  | { kind: "deleteConsumer"; group: string; consumer: string }
  | {
      kind: "readGroup";
      group: string;
      consumer: string;
      /** undefined: new entries (`>`); else the consumer's pending entries from this ID. */
      from?: StreamId;
      count: number;
      noAck: boolean;
      nowMs: number;
      /** Bodies of entries that may be dead-lettered (with their IDs), read before the command was logged. */
      bodies: string[];
    }
  | { kind: "ack"; group: string; ids: StreamId[] }
  | {
      kind: "claim";
      group: string;
      consumer: string;
      minIdleMs: number;
      ids: StreamId[];
      idleMs?: number;
      timeMs?: number;
      retryCount?: number;
      force: boolean;
      justId: boolean;
      lastId?: StreamId;
      nowMs: number;
      bodies: string[];
    }
  | {
      kind: "autoClaim";
      group: string;
      consumer: string;
      minIdleMs: number;
      start: StreamId;
      count: number;
      justId: boolean;
      nowMs: number;
      bodies: string[];
    };

export type StreamCommandKind = StreamCommand["kind"];

export type FieldType = "num" | "str" | "id" | "ids" | "strs" | "bool" | "idreq" | "trim" | "retention" | "start";
export type Field = readonly [name: string, type: FieldType, optional?: "?"];

/** The kinds in code order (a kind's code is its index + 1) with their fields: never reorder, only append. */
export const SCHEMAS: readonly (readonly [StreamCommandKind, readonly Field[]])[] = [
  [
    "add",
    [
      ["id", "idreq"],
      ["fields", "strs"],
      ["noMkStream", "bool"],
      ["trim", "trim", "?"],
      ["producerId", "str", "?"],
      ["nowMs", "num"],
    ],
  ],
  ["delete", [["ids", "ids"]]],
  ["trim", [["trim", "trim"]]],
  [
    "setId",
    [
      ["id", "id"],
      ["entriesAdded", "num", "?"],
      ["maxDeletedId", "id", "?"],
    ],
  ],
  [
    "setRetention",
    [
      ["retention", "retention"],
      ["nowMs", "num"],
    ],
  ],
  [
    "createGroup",
    [
      ["group", "str"],
      ["start", "start"],
      ["mkStream", "bool"],
      ["entriesRead", "num", "?"],
      ["maxDeliveries", "num", "?"],
      ["deadLetterKey", "str", "?"],
    ],
  ],
  [
    "setGroupId",
    [
      ["group", "str"],
      ["start", "start"],
      ["entriesRead", "num", "?"],
    ],
  ],
  ["destroyGroup", [["group", "str"]]],
  [
    "createConsumer",
    [
      ["group", "str"],
      ["consumer", "str"],
      ["nowMs", "num"],
    ],
  ],
  [
    "deleteConsumer",
    [
      ["group", "str"],
      ["consumer", "str"],
    ],
  ],
  [
    "readGroup",
    [
      ["group", "str"],
      ["consumer", "str"],
      ["from", "id", "?"],
      ["count", "num"],
      ["noAck", "bool"],
      ["nowMs", "num"],
      ["bodies", "strs"],
    ],
  ],
  [
    "ack",
    [
      ["group", "str"],
      ["ids", "ids"],
    ],
  ],
  [
    "claim",
    [
      ["group", "str"],
      ["consumer", "str"],
      ["minIdleMs", "num"],
      ["ids", "ids"],
      ["idleMs", "num", "?"],
      ["timeMs", "num", "?"],
      ["retryCount", "num", "?"],
      ["force", "bool"],
      ["justId", "bool"],
      ["lastId", "id", "?"],
      ["nowMs", "num"],
      ["bodies", "strs"],
    ],
  ],
  [
    "autoClaim",
    [
      ["group", "str"],
      ["consumer", "str"],
      ["minIdleMs", "num"],
      ["start", "id"],
      ["count", "num"],
      ["justId", "bool"],
      ["nowMs", "num"],
      ["bodies", "strs"],
    ],
  ],
];
