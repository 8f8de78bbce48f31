/**
 * The codec of stream data segment files, as docs/format.md ("Stream data segments") has it:
 * the file header, the record header, and file names. All integers little-endian except the
 * entry ID, which is stored in its in-memory byte order (big-endian ms then seq).
 */
import { LogbookError } from "../errors.js";
import { crc32Range } from "../log/index.js";
import type { StreamId } from "./stream-id.js";

export const DATA_FILE_MAGIC = "LBSTREAM";
export const DATA_FORMAT_VERSION = 1;
export const DATA_FILE_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 32;
const ID_BYTES = 16;
const NAME_DIGITS = 20;
const NAME = /^data-([0-9]{20})\.seg$/;
const TWO_32 = 2 ** 32;

/** Record header field offsets. */
const RECORD_CRC = 0;
const RECORD_BODY_BYTES = 4;
const RECORD_STREAM = 8;
const RECORD_BODY_CRC = 12;
const RECORD_ID = 16;

export function dataFileName(start: number): string {
  return `data-${String(start).padStart(NAME_DIGITS, "0")}.seg`;
}

/** The start position a data file's name gives, or undefined for a name that is not one. */
export function dataFileStart(name: string): number | undefined {
  const match = NAME.exec(name);
  if (match === null) return undefined;
  const start = Number(match[1]);
  return Number.isSafeInteger(start) ? start : undefined;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeFileHeader(target: Uint8Array, at: number, start: number): void {
  const header = target.subarray(at, at + DATA_FILE_HEADER_BYTES);
  header.fill(0);
  for (let i = 0; i < DATA_FILE_MAGIC.length; i++) header[i] = DATA_FILE_MAGIC.charCodeAt(i);
  const fields = view(header);
  fields.setUint16(8, DATA_FORMAT_VERSION, true);
  fields.setUint16(10, DATA_FILE_HEADER_BYTES, true);
  fields.setUint32(16, start % TWO_32, true);
  fields.setUint32(20, Math.floor(start / TWO_32), true);
  fields.setUint32(28, crc32Range(header, 0, 28), true);
}

/** Checks a data file's header against the start its name gives; LOGBOOK_CORRUPTION if it does not match. */
export function checkFileHeader(header: Uint8Array, start: number, file: string): void {
  const fail = (why: string) => new LogbookError("LOGBOOK_CORRUPTION", `${file}: ${why}`, { file, offset: 0 });
  if (header.byteLength < DATA_FILE_HEADER_BYTES) throw fail("the file is shorter than its header");
  const fields = view(header);
  if (fields.getUint32(28, true) !== crc32Range(header, 0, 28)) throw fail("the header checksum does not match");
  for (let i = 0; i < DATA_FILE_MAGIC.length; i++) {
    if (header[i] !== DATA_FILE_MAGIC.charCodeAt(i)) throw fail("not a stream data file");
  }
  if (fields.getUint16(8, true) !== DATA_FORMAT_VERSION) throw fail("unknown format version");
  if (fields.getUint16(10, true) !== DATA_FILE_HEADER_BYTES) throw fail("unexpected header size");
  const named = fields.getUint32(16, true) + fields.getUint32(20, true) * TWO_32;
  if (named !== start) throw fail(`the header names start position ${named}`);
}

function setU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value & 0xff;
  target[at + 1] = (value >>> 8) & 0xff;
  target[at + 2] = (value >>> 16) & 0xff;
  target[at + 3] = value >>> 24;
}

export function getU32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}

/** Writes a record (header and body) at `at` of `target`. */
export function encodeRecord(target: Uint8Array, at: number, stream: number, id: StreamId, body: Uint8Array): void {
  setU32(target, at + RECORD_BODY_BYTES, body.byteLength);
  setU32(target, at + RECORD_STREAM, stream);
  setU32(target, at + RECORD_BODY_CRC, crc32Range(body, 0, body.byteLength));
  for (let i = 0; i < ID_BYTES; i++) target[at + RECORD_ID + i] = id.charCodeAt(i);
  setU32(target, at + RECORD_CRC, crc32Range(target, at + 4, at + RECORD_HEADER_BYTES));
  target.set(body, at + RECORD_HEADER_BYTES);
}

/** A record header as read back. */
export interface RecordHeader {
  bodyBytes: number;
  stream: number;
  bodyCrc: number;
  id: StreamId;
}

/** Decodes the record header at `at`, or undefined when its checksum does not match. */
export function decodeRecordHeader(bytes: Uint8Array, at: number): RecordHeader | undefined {
  if (getU32(bytes, at + RECORD_CRC) !== crc32Range(bytes, at + 4, at + RECORD_HEADER_BYTES)) return undefined;
  return {
    bodyBytes: getU32(bytes, at + RECORD_BODY_BYTES),
    stream: getU32(bytes, at + RECORD_STREAM),
    bodyCrc: getU32(bytes, at + RECORD_BODY_CRC),
    id: String.fromCharCode(...bytes.subarray(at + RECORD_ID, at + RECORD_ID + ID_BYTES)),
  };
}

/**
 * Why the record at `at` is not the entry `id` of `stream` with a body of `bodyBytes` intact
 * (undefined when it is). A reader that knows what it expects from the index checks the fields
 * against it instead of the header checksum: a record that names the expected stream, ID and
 * length and whose body matches its CRC is that entry.
 */
export function recordMismatch(
  bytes: Uint8Array,
  at: number,
  stream: number,
  id: StreamId,
  bodyBytes: number,
): string | undefined {
  if (getU32(bytes, at + RECORD_STREAM) !== stream) return "names another stream";
  if (getU32(bytes, at + RECORD_BODY_BYTES) !== bodyBytes) return "has another length";
  for (let i = 0; i < ID_BYTES; i++) if (bytes[at + RECORD_ID + i] !== id.charCodeAt(i)) return "has another ID";
  const start = at + RECORD_HEADER_BYTES;
  if (start + bodyBytes > bytes.byteLength) return "runs past what was read";
  if (crc32Range(bytes, start, start + bodyBytes) !== getU32(bytes, at + RECORD_BODY_CRC)) return "body checksum does not match";
  return undefined;
}

/** Whether the body after the header at `at` has the CRC the header records. */
export function bodyMatches(bytes: Uint8Array, at: number, header: RecordHeader): boolean {
  const start = at + RECORD_HEADER_BYTES;
  return crc32Range(bytes, start, start + header.bodyBytes) === header.bodyCrc;
}
