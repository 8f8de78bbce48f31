/**
 * The arguments of the stream API, checked and turned into their internal forms: fields into
 * binary strings, range bounds and IDs into stream IDs, trims into trim specs. Bad input is a
 * LOGBOOK_INVALID_ARGUMENT (a wrong type a TypeError) before anything is logged.
 */
import { LogbookError } from "../errors.js";
import { MAX_ID, MIN_ID, nextId, parseId, previousId, type Retention, type StreamId, type TrimSpec } from "../streams/index.js";

/** Field/value pairs an entry may have at most. */
export const STREAM_FIELDS_MAX = 1024;
/** Entries a read returns at most (a larger count is clamped: read again for more). */
export const STREAM_READ_COUNT_MAX = 10_000;
/** Entries a range without a count may return; a larger range needs a count or `entries()`. */
export const STREAM_RANGE_COUNT_MAX = 100_000;
/** Group or consumer name bytes. */
export const STREAM_NAME_BYTES_MAX = 256;

/** A group, consumer or producer name: UTF-8 text, or bytes. */
export type Name = string | Uint8Array;

export type FieldInput = Record<string, string | Uint8Array> | readonly (readonly [string | Uint8Array, string | Uint8Array])[];

function invalid(message: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_ARGUMENT", message);
}

/** ASCII text is its own binary string (one char per byte): most field names and values are. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is what this tests for
const ASCII = /^[\x00-\x7f]*$/;

function binary(value: string | Uint8Array, what: string): string {
  if (typeof value === "string") return ASCII.test(value) ? value : Buffer.from(value, "utf8").toString("latin1");
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("latin1");
  throw new TypeError(`${what} must be a string or a Uint8Array`);
}

/** Fields as alternating binary field and value strings; at most `bytesMax` bytes in all. */
export function fieldsToInternal(input: FieldInput, bytesMax: number): string[] {
  if (typeof input !== "object" || input === null) throw new TypeError("fields must be an object or an array of pairs");
  const pairs = Array.isArray(input)
    ? (input as readonly (readonly [string | Uint8Array, string | Uint8Array])[])
    : Object.entries(input);
  if (pairs.length === 0) throw invalid("an entry needs at least one field");
  if (pairs.length > STREAM_FIELDS_MAX) throw invalid(`an entry has at most ${STREAM_FIELDS_MAX} fields, got ${pairs.length}`);
  const fields: string[] = [];
  let bytes = 0;
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError("each field is a [name, value] pair");
    const name = binary(pair[0] as string | Uint8Array, "a field name");
    const value = binary(pair[1] as string | Uint8Array, "a field value");
    bytes += name.length + value.length;
    fields.push(name, value);
  }
  if (bytes > bytesMax) throw invalid(`an entry has at most ${bytesMax} bytes of fields, got ${bytes}`);
  return fields;
}

/**
 * Binary field strings back as [name, value] pairs: of UTF-8 strings, or with `binary` of the
 * binary strings themselves (one char per byte, for callers that pass bytes on as they are).
 */
export function fieldsFromInternal(fields: readonly string[], binary = false): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string;
    const value = fields[i + 1] as string;
    pairs.push(binary ? [name, value] : [utf8Of(name), utf8Of(value)]);
  }
  return pairs;
}

function utf8Of(internal: string): string {
  return ASCII.test(internal) ? internal : Buffer.from(internal, "latin1").toString("utf8");
}

/**
 * A group, consumer or producer name: a non-empty string (UTF-8) or bytes, of at most
 * STREAM_NAME_BYTES_MAX bytes, as a binary string.
 */
export function nameToInternal(name: Name, what: string): string {
  if (typeof name !== "string" && !(name instanceof Uint8Array)) throw new TypeError(`${what} must be a string or a Uint8Array`);
  const internal = binary(name, what);
  if (internal.length === 0 || internal.length > STREAM_NAME_BYTES_MAX) {
    throw invalid(`${what} must have 1 to ${STREAM_NAME_BYTES_MAX} bytes`);
  }
  return internal;
}

/** A name as callers get it: a UTF-8 string, or with `binary` its binary string as it is. */
export function nameFromInternal(internal: string, binary = false): string {
  if (binary || ASCII.test(internal)) return internal;
  return Buffer.from(internal, "latin1").toString("utf8");
}

/**
 * A range bound: `-` and `+` for the ends, `<ms>` or `<ms>-<seq>`, or either after `(` for an
 * exclusive bound. Resolves undefined when an exclusive bound leaves nothing (past the last ID).
 */
export function rangeBound(text: string, side: "start" | "end"): StreamId | undefined {
  if (typeof text !== "string") throw new TypeError("a range bound is a string");
  if (text === "-") return MIN_ID;
  if (text === "+") return MAX_ID;
  if (text.startsWith("(")) {
    const id = parseId(text.slice(1), side === "start" ? "min" : "max");
    return side === "start" ? nextId(id) : previousId(id);
  }
  return parseId(text, side === "start" ? "min" : "max");
}

/** A read or claim count: a positive integer, clamped to `max`. */
export function countArg(count: number | undefined, fallback: number, max: number): number {
  if (count === undefined) return fallback;
  if (typeof count !== "number") throw new TypeError("count must be a number");
  if (!Number.isSafeInteger(count) || count < 0) throw invalid("count must be a non-negative integer");
  return count === 0 ? fallback : Math.min(count, max);
}

export function msArg(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number") throw new TypeError(`${what} must be a number`);
  if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${what} must be a non-negative integer`);
  return value;
}

export interface TrimOptions {
  /** Keep at most this many entries. */
  maxLength?: number;
  /** Keep no entry below this ID. */
  minId?: string;
  /** Keep at most this many bytes of entries. */
  maxBytes?: number;
  /** Trim whole blocks only (Redis's `~`): cheaper; may keep a few more. */
  approximate?: boolean;
  /** Remove at most this many (0: no limit). */
  limit?: number;
}

export function trimSpec(options: TrimOptions): TrimSpec {
  const given = (["maxLength", "minId", "maxBytes"] as const).filter((k) => options[k] !== undefined);
  if (given.length !== 1) throw invalid("a trim takes exactly one of maxLength, minId and maxBytes");
  const limit = options.limit ?? 0;
  if (!Number.isSafeInteger(limit) || limit < 0) throw invalid("limit must be a non-negative integer");
  if (limit > 0 && options.approximate !== true) throw invalid("limit is allowed only with an approximate trim");
  const approximate = options.approximate === true;
  if (options.minId !== undefined) {
    return { strategy: "minid", threshold: 0, minId: parseId(options.minId), approximate, limit };
  }
  const threshold = (options.maxLength ?? options.maxBytes) as number;
  if (!Number.isSafeInteger(threshold) || threshold < 0) throw invalid("a trim threshold must be a non-negative integer");
  return { strategy: options.maxLength !== undefined ? "maxlen" : "maxbytes", threshold, minId: MIN_ID, approximate, limit };
}

export interface RetentionOptions {
  maxLength?: number;
  maxBytes?: number;
  maxAgeMs?: number;
}

export function retentionArg(options: RetentionOptions): Retention {
  const retention = { maxLength: options.maxLength ?? 0, maxBytes: options.maxBytes ?? 0, maxAgeMs: options.maxAgeMs ?? 0 };
  for (const [name, value] of Object.entries(retention)) {
    if (!Number.isSafeInteger(value) || value < 0) throw invalid(`${name} must be a non-negative integer (0: no limit)`);
  }
  return retention;
}
