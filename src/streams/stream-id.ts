/**
 * Stream entry IDs, as Redis Streams has them: `<ms>-<seq>`, two unsigned 64-bit integers,
 * strictly increasing within a stream.
 *
 * In memory an ID is a 16-char binary string: `ms` then `seq`, each 8 bytes most significant
 * first, one char per byte. Comparing two IDs is comparing the strings (`<`, `===`), an ID is
 * a Map key as it is, and no BigInt is made unless an ID is parsed or printed.
 */
import { LogbookError } from "../errors.js";

export type StreamId = string;

const U64_MAX = (1n << 64n) - 1n;
const ID_CHARS = 16;

/** 0-0: below every entry (no entry may have it). */
export const MIN_ID: StreamId = "\0".repeat(ID_CHARS);
/** The largest ID there is: a stream whose last entry has it can take no more. */
export const MAX_ID: StreamId = "\xff".repeat(ID_CHARS);

const TWO_POW_32 = 2 ** 32;

function u64Chars(value: bigint): string {
  if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return numberChars(Number(value));
  let chars = "";
  for (let shift = 56n; shift >= 0n; shift -= 8n) chars += String.fromCharCode(Number((value >> shift) & 0xffn));
  return chars;
}

/** The 8 chars of a safe integer, without BigInt (IDs made from the clock take this path). */
function numberChars(value: number): string {
  const high = Math.floor(value / TWO_POW_32);
  const low = value >>> 0;
  return String.fromCharCode(
    high >>> 24,
    (high >>> 16) & 0xff,
    (high >>> 8) & 0xff,
    high & 0xff,
    low >>> 24,
    (low >>> 16) & 0xff,
    (low >>> 8) & 0xff,
    low & 0xff,
  );
}

/** The u64 at `from` as a number when it is a safe integer, else -1. */
function charsNumber(id: StreamId, from: number): number {
  if (id.charCodeAt(from) !== 0 || id.charCodeAt(from + 1) > 0x1f) return -1;
  let value = 0;
  for (let i = from; i < from + 8; i++) value = value * 256 + id.charCodeAt(i);
  return value;
}

function charsU64(id: StreamId, from: number): bigint {
  const safe = charsNumber(id, from);
  if (safe >= 0) return BigInt(safe);
  let value = 0n;
  for (let i = from; i < from + 8; i++) value = (value << 8n) | BigInt(id.charCodeAt(i));
  return value;
}

export function idFromParts(ms: bigint, seq: bigint): StreamId {
  if (ms < 0n || ms > U64_MAX || seq < 0n || seq > U64_MAX)
    throw new RangeError("a stream ID part is an unsigned 64-bit integer");
  return u64Chars(ms) + u64Chars(seq);
}

export function idMs(id: StreamId): bigint {
  return charsU64(id, 0);
}

export function idSeq(id: StreamId): bigint {
  return charsU64(id, 8);
}

/** The ID printed as Redis prints it: `<ms>-<seq>` in decimal. */
export function formatId(id: StreamId): string {
  const ms = charsNumber(id, 0);
  const seq = charsNumber(id, 8);
  return `${ms >= 0 ? ms : idMs(id)}-${seq >= 0 ? seq : idSeq(id)}`;
}

/** Whether `value` is an ID in its in-memory form (16 chars, each a byte). */
export function isStreamId(value: unknown): value is StreamId {
  if (typeof value !== "string" || value.length !== ID_CHARS) return false;
  for (let i = 0; i < ID_CHARS; i++) if (value.charCodeAt(i) > 0xff) return false;
  return true;
}

/** The ID right after `id` (seq + 1, or the next ms at seq 0), or undefined after MAX_ID. */
export function nextId(id: StreamId): StreamId | undefined {
  if (id === MAX_ID) return undefined;
  // The common case, an add in the same millisecond as the last: seq + 1 without BigInt.
  const safeSeq = charsNumber(id, 8);
  if (safeSeq >= 0 && safeSeq < Number.MAX_SAFE_INTEGER) return id.slice(0, 8) + numberChars(safeSeq + 1);
  const seq = idSeq(id);
  return seq === U64_MAX ? idFromParts(idMs(id) + 1n, 0n) : idFromParts(idMs(id), seq + 1n);
}

/** The ID right before `id`, or undefined before MIN_ID. */
export function previousId(id: StreamId): StreamId | undefined {
  if (id === MIN_ID) return undefined;
  const seq = idSeq(id);
  return seq === 0n ? idFromParts(idMs(id) - 1n, U64_MAX) : idFromParts(idMs(id), seq - 1n);
}

function invalid(text: string, why: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_ARGUMENT", `invalid stream ID ${JSON.stringify(text.slice(0, 64))}: ${why}`);
}

const DECIMAL = /^[0-9]{1,20}$/;

function parsePart(text: string, part: string): bigint {
  if (!DECIMAL.test(part)) throw invalid(text, "each part is an unsigned decimal integer");
  const value = BigInt(part);
  if (value > U64_MAX) throw invalid(text, "each part is at most 2^64 - 1");
  return value;
}

/**
 * Parses `<ms>-<seq>`, or `<ms>` alone, which stands for `<ms>-<missingSeq>` (a range's start
 * takes seq 0, its end the largest seq). Throws LOGBOOK_INVALID_ARGUMENT for anything else.
 */
export function parseId(text: string, missingSeq: "min" | "max" = "min"): StreamId {
  if (typeof text !== "string") throw new TypeError("a stream ID is a string");
  const dash = text.indexOf("-");
  if (dash < 0) return idFromParts(parsePart(text, text), missingSeq === "min" ? 0n : U64_MAX);
  return idFromParts(parsePart(text, text.slice(0, dash)), parsePart(text, text.slice(dash + 1)));
}

/**
 * What XADD may be given as the new entry's ID: `*` (generated from the clock), `<ms>-*`
 * (that ms, the next seq), or an explicit ID. Throws LOGBOOK_INVALID_ARGUMENT otherwise.
 */
export type IdRequest = { kind: "auto" } | { kind: "ms"; ms: bigint } | { kind: "explicit"; id: StreamId };

export function parseIdRequest(text: string): IdRequest {
  if (typeof text !== "string") throw new TypeError("a stream ID is a string");
  if (text === "*") return { kind: "auto" };
  if (text.endsWith("-*")) return { kind: "ms", ms: parsePart(text, text.slice(0, -2)) };
  return { kind: "explicit", id: parseId(text) };
}

/**
 * The ID a new entry gets, or undefined when the request cannot be met after `last` (an
 * explicit ID not above it, or no ID left): the caller turns that into its error.
 * `nowMs`: the clock, for `*` (an ID never goes back when the clock does).
 */
export function assignId(request: IdRequest, last: StreamId, nowMs: number): StreamId | undefined {
  if (request.kind === "explicit") return request.id > last ? request.id : undefined;
  if (request.kind === "ms") {
    const lastMs = idMs(last);
    if (request.ms > lastMs) return idFromParts(request.ms, 0n);
    if (request.ms < lastMs) return undefined;
    const seq = idSeq(last);
    return seq === U64_MAX ? undefined : idFromParts(request.ms, seq + 1n);
  }
  const now = Math.max(0, Math.floor(nowMs));
  const lastSafe = charsNumber(last, 0);
  if (lastSafe >= 0) return now > lastSafe ? numberChars(now) + numberChars(0) : nextId(last);
  return BigInt(now) > idMs(last) ? idFromParts(BigInt(now), 0n) : nextId(last);
}
