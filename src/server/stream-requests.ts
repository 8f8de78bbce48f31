/**
 * The shapes of the requests the stream routes accept, checked as sent: JSON bodies by their
 * schemas (a value of the wrong type is a 400, never converted), query strings parsed in one
 * spelling each. Counts above the store's read ceiling and lists of IDs above
 * STREAM_IDS_MAX are refused rather than clamped, so a client never mistakes a clamped answer
 * for the whole one. IDs and range bounds stay strings: the store parses them and answers a
 * malformed one with LOGBOOK_INVALID_ARGUMENT (400).
 */
import Type, { type TSchema } from "typebox";
import Compile from "typebox/compile";
import { STREAM_READ_COUNT_MAX } from "../store/index.js";
import { HttpError } from "./http-error.js";
import { describeFirstError } from "./request-schemas.js";

/** IDs one ack, claim or delete names at most. */
export const STREAM_IDS_MAX = 10_000;

const Count = Type.Integer({ minimum: 1, maximum: STREAM_READ_COUNT_MAX });
const Natural = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Name = Type.String({ minLength: 1 });
const Ids = Type.Array(Type.String(), { minItems: 1, maxItems: STREAM_IDS_MAX });

const TrimSchema = Type.Object(
  {
    maxLength: Type.Optional(Natural),
    minId: Type.Optional(Type.String()),
    maxBytes: Type.Optional(Natural),
    approximate: Type.Optional(Type.Boolean()),
    limit: Type.Optional(Natural),
  },
  { additionalProperties: false },
);

const AddSchema = Type.Object(
  {
    fields: Type.Union([
      Type.Record(Type.String(), Type.String()),
      Type.Array(Type.Tuple([Type.String(), Type.String()]), { minItems: 1 }),
    ]),
    id: Type.Optional(Type.String()),
    noMkStream: Type.Optional(Type.Boolean()),
    trim: Type.Optional(TrimSchema),
    producerId: Type.Optional(Name),
  },
  { additionalProperties: false },
);

const RetentionSchema = Type.Object(
  { maxLength: Type.Optional(Natural), maxBytes: Type.Optional(Natural), maxAgeMs: Type.Optional(Natural) },
  { additionalProperties: false },
);

const CreateGroupSchema = Type.Object(
  {
    start: Type.Optional(Type.String()),
    mkStream: Type.Optional(Type.Boolean()),
    entriesRead: Type.Optional(Natural),
    maxDeliveries: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
    deadLetterKey: Type.Optional(Name),
  },
  { additionalProperties: false },
);

const GroupReadSchema = Type.Object(
  {
    consumer: Name,
    count: Type.Optional(Count),
    blockMs: Type.Optional(Natural),
    noAck: Type.Optional(Type.Boolean()),
    from: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const AckSchema = Type.Object({ ids: Ids }, { additionalProperties: false });

const ClaimSchema = Type.Object(
  {
    consumer: Name,
    minIdleMs: Natural,
    ids: Ids,
    idleMs: Type.Optional(Natural),
    timeMs: Type.Optional(Natural),
    retryCount: Type.Optional(Natural),
    force: Type.Optional(Type.Boolean()),
    justId: Type.Optional(Type.Boolean()),
    lastId: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

const AutoClaimSchema = Type.Object(
  {
    consumer: Name,
    minIdleMs: Natural,
    start: Type.Optional(Type.String()),
    count: Type.Optional(Count),
    justId: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export interface TrimBody {
  maxLength?: number;
  minId?: string;
  maxBytes?: number;
  approximate?: boolean;
  limit?: number;
}
export interface AddBody {
  fields: Record<string, string> | [string, string][];
  id?: string;
  noMkStream?: boolean;
  trim?: TrimBody;
  producerId?: string;
}
export interface RetentionBody {
  maxLength?: number;
  maxBytes?: number;
  maxAgeMs?: number;
}
export interface CreateGroupBody {
  start?: string;
  mkStream?: boolean;
  entriesRead?: number;
  maxDeliveries?: number;
  deadLetterKey?: string;
}
export interface GroupReadBody {
  consumer: string;
  count?: number;
  blockMs?: number;
  noAck?: boolean;
  from?: string;
}
export interface ClaimBody {
  consumer: string;
  minIdleMs: number;
  ids: string[];
  idleMs?: number;
  timeMs?: number;
  retryCount?: number;
  force?: boolean;
  justId?: boolean;
  lastId?: string;
}
export interface AutoClaimBody {
  consumer: string;
  minIdleMs: number;
  start?: string;
  count?: number;
  justId?: boolean;
}

/** A body checker: the body as T, or a 400 naming the first place it differs from the schema. */
function bodyParser<T>(schema: TSchema, optional = false): (body: unknown) => T {
  const validator = Compile(schema);
  return (body) => {
    if (body === undefined) {
      if (optional) return {} as T;
      throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "the body must be a JSON object (Content-Type: application/json)");
    }
    if (!validator.Check(body))
      throw new HttpError(400, "LOGBOOK_BAD_REQUEST", describeFirstError("body", validator.Errors(body)));
    return body as T;
  };
}

export const parseAddBody = bodyParser<AddBody>(AddSchema);
export const parseTrimBody = bodyParser<TrimBody>(TrimSchema);
export const parseRetentionBody = bodyParser<RetentionBody>(RetentionSchema);
export const parseCreateGroupBody = bodyParser<CreateGroupBody>(CreateGroupSchema, true);
export const parseGroupReadBody = bodyParser<GroupReadBody>(GroupReadSchema);
export const parseAckBody = bodyParser<{ ids: string[] }>(AckSchema);
export const parseClaimBody = bodyParser<ClaimBody>(ClaimSchema);
export const parseAutoClaimBody = bodyParser<AutoClaimBody>(AutoClaimSchema);

/** Digits only, no sign, no leading zero (but 0 itself): `0x10`, `1e3`, ` 5` and `5.0` are not numbers here. */
const NATURAL_PATTERN = /^(0|[1-9][0-9]{0,15})$/;

/** A query string's parameters, each given once, none unknown. */
function queryFields(query: unknown, known: readonly string[]): Record<string, string> {
  const fields = (query ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (!known.includes(name)) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `unknown parameter ${name}`);
    if (typeof value !== "string") throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${name} must be given once`);
  }
  return fields as Record<string, string>;
}

function natural(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!NATURAL_PATTERN.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${name} must be a whole number from ${min} to ${max}, in decimal digits`);
  }
  return value;
}

function boolean(name: string, text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  if (text !== "true" && text !== "false") throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${name} must be true or false`);
  return text === "true";
}

/** GET …/entries: a range (start, end, count, reverse) or a read after an ID (after, count, blockMs). */
export type EntriesQuery =
  | { mode: "range"; start?: string; end?: string; count?: number; reverse?: boolean }
  | { mode: "read"; after: string; count?: number; blockMs?: number };

export function parseEntriesQuery(query: unknown): EntriesQuery {
  const q = queryFields(query, ["start", "end", "count", "reverse", "after", "blockMs"]);
  const count = natural("count", q.count, 1, STREAM_READ_COUNT_MAX);
  if (q.after === undefined) {
    if (q.blockMs !== undefined)
      throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "blockMs needs after (the ID to read after, or $)");
    return { mode: "range", start: q.start, end: q.end, count, reverse: boolean("reverse", q.reverse) };
  }
  if (q.start !== undefined || q.end !== undefined || q.reverse !== undefined) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "after reads forward from an ID: give it without start, end or reverse");
  }
  return { mode: "read", after: q.after, count, blockMs: natural("blockMs", q.blockMs, 0, Number.MAX_SAFE_INTEGER) };
}

export interface PendingQuery {
  consumer?: string;
  start?: string;
  end?: string;
  count?: number;
  minIdleMs?: number;
}

/** GET …/pending: any parameter asks for the entries; none for the summary. */
export function parsePendingQuery(query: unknown): PendingQuery | undefined {
  const q = queryFields(query, ["consumer", "start", "end", "count", "minIdleMs"]);
  if (Object.keys(q).length === 0) return undefined;
  return {
    consumer: q.consumer,
    start: q.start,
    end: q.end,
    count: natural("count", q.count, 1, STREAM_READ_COUNT_MAX),
    minIdleMs: natural("minIdleMs", q.minIdleMs, 0, Number.MAX_SAFE_INTEGER),
  };
}

/** GET /v1/streams: a page of stream keys after `after`. */
export function parseStreamListQuery(query: unknown, limitMax: number): { after?: string; limit?: number } {
  const q = queryFields(query, ["after", "limit"]);
  return { after: q.after, limit: natural("limit", q.limit, 1, limitMax) };
}
