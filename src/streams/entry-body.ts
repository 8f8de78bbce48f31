/**
 * The body of a stream entry: its field-value pairs, each a binary string (one char per byte).
 * Format: a LEB128 varint pair count, then per string a LEB128 varint length and its bytes.
 * Bodies are what the data segments store (docs/format.md, "Stream data segments").
 */
import { LogbookError } from "../errors.js";

/** Strings per entry (fields and values together). */
export const ENTRY_FIELDS_MAX = 2 * 65536;
/** Bytes of one encoded entry body. */
export const ENTRY_BODY_BYTES_MAX = 32 * 1024 * 1024;
/** Bytes of a varint: lengths stay below 2^35. */
const VARINT_BYTES_MAX = 5;

/** A UTF-16 code unit above 0xff (surrogate halves included). */
const NOT_LATIN1 = /[\u0100-\uffff]/;

function invalid(message: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_ARGUMENT", message);
}

function varintBytes(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes++;
  }
  return bytes;
}

function writeVarint(target: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    target[at++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 0x80);
  }
  target[at++] = value;
  return at;
}

/** Encodes field-value pairs: `fields` alternates field, value, each a string of chars 0-255. */
export function encodeFields(fields: readonly string[]): Uint8Array {
  if (!Array.isArray(fields)) throw new TypeError("an entry's fields are an array of strings");
  if (fields.length === 0 || fields.length % 2 !== 0) throw invalid("an entry has one or more field-value pairs");
  if (fields.length > ENTRY_FIELDS_MAX) throw invalid(`an entry has at most ${ENTRY_FIELDS_MAX / 2} field-value pairs`);
  let bytes = varintBytes(fields.length / 2);
  for (const field of fields) {
    if (typeof field !== "string") throw new TypeError("an entry's fields are strings");
    if (NOT_LATIN1.test(field)) throw invalid("an entry's fields are binary strings (chars 0-255)");
    bytes += varintBytes(field.length) + field.length;
    if (bytes > ENTRY_BODY_BYTES_MAX) throw invalid(`an entry is at most ${ENTRY_BODY_BYTES_MAX} bytes`);
  }
  const body = Buffer.allocUnsafe(bytes);
  let at = writeVarint(body, 0, fields.length / 2);
  for (const field of fields) {
    at = writeVarint(body, at, field.length);
    at += body.write(field, at, "latin1");
  }
  return body;
}

function corrupt(message: string): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `stream entry body: ${message}`);
}

function readVarint(body: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    const byte = body[at + i];
    if (byte === undefined) throw corrupt("a length runs past the end");
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at + i + 1];
    scale *= 0x80;
  }
  throw corrupt("a length is too long");
}

/** Decodes a body `encodeFields` made; LOGBOOK_CORRUPTION for anything else. */
export function decodeFields(body: Uint8Array): string[] {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let [pairs, at] = readVarint(bytes, 0);
  if (pairs === 0 || pairs * 2 > ENTRY_FIELDS_MAX) throw corrupt(`${pairs} field-value pairs`);
  const fields = new Array<string>(pairs * 2);
  for (let i = 0; i < pairs * 2; i++) {
    const [length, start] = readVarint(bytes, at);
    if (start + length > bytes.byteLength) throw corrupt("a field runs past the end");
    fields[i] = bytes.toString("latin1", start, start + length);
    at = start + length;
  }
  if (at !== bytes.byteLength) throw corrupt("bytes after the last field");
  return fields;
}

/** Where the varint `varintAt` read last ended (a module scratch: the decoder below is the hot path of a scan). */
let varintNext = 0;

/** The varint at `at`, one-byte ones without a call; sets `varintNext`. */
function varintAt(bytes: Uint8Array, at: number): number {
  const first = bytes[at];
  if (first !== undefined && first < 0x80) {
    varintNext = at + 1;
    return first;
  }
  const [value, next] = readVarint(bytes, at);
  varintNext = next;
  return value;
}

/**
 * Decodes the body at [start, end) of `bytes` straight to [field, value] pairs of UTF-8
 * strings (a malformed sequence becomes U+FFFD, as Buffer's decoder has it), without the
 * binary strings `decodeFields` makes; LOGBOOK_CORRUPTION for a body `encodeFields` did not make.
 */
export function decodeFieldPairs(bytes: Buffer, start: number, end: number): [string, string][] {
  const pairs = varintAt(bytes, start);
  if (pairs === 0 || pairs * 2 > ENTRY_FIELDS_MAX) throw corrupt(`${pairs} field-value pairs`);
  const out = new Array<[string, string]>(pairs);
  let at = varintNext;
  for (let i = 0; i < pairs; i++) {
    const fieldEnd = varintAt(bytes, at) + varintNext;
    const fieldStart = varintNext;
    if (fieldEnd > end) throw corrupt("a field runs past the end");
    const valueEnd = varintAt(bytes, fieldEnd) + varintNext;
    const valueStart = varintNext;
    if (valueEnd > end) throw corrupt("a field runs past the end");
    out[i] = [bytes.toString("utf8", fieldStart, fieldEnd), bytes.toString("utf8", valueStart, valueEnd)];
    at = valueEnd;
  }
  if (at !== end) throw corrupt("bytes after the last field");
  return out;
}
