/**
 * The codec of stream index files, as docs/format.md ("Stream index files") has it: the file
 * `index-<S>.idx` lists, in data order, one row per record appended to the data file
 * `data-<S>.seg`, in chunks, one chunk per checkpoint that made rows durable. A chunk is a
 * header (CRC-32 over the rest of the chunk, its row count, the data file's start position)
 * and its rows. Every field is a little-endian u32, the entry ID as its four words (ms high,
 * ms low, seq high, seq low), so a reader on a little-endian machine reads rows through a
 * Uint32Array without decoding them byte by byte.
 */
import { assert } from "../assert.js";
import { crc32Range } from "../log/index.js";
import { getU32 } from "./data-format.js";
import { idWords } from "./id-words.js";
import type { StreamId } from "./stream-id.js";

export const INDEX_CHUNK_HEADER_BYTES = 16;
export const INDEX_ROW_BYTES = 32;
const NAME_DIGITS = 20;
const NAME = /^index-([0-9]{20})\.idx$/;
const TWO_32 = 2 ** 32;

/** Chunk header field offsets. */
const CHUNK_CRC = 0;
const CHUNK_ROWS = 4;
const CHUNK_START = 8;

/** Row fields, in u32 words from the row's start. */
export const ROW_WORDS = 8;
export const ROW_STREAM = 0;
export const ROW_BODY_BYTES = 1;
export const ROW_POSITION_LOW = 2;
export const ROW_POSITION_HIGH = 3;
/** The ID's four words (id-words.ts) follow from here. */
export const ROW_ID = 4;

assert(INDEX_ROW_BYTES === 4 * ROW_WORDS && INDEX_CHUNK_HEADER_BYTES % 4 === 0, "rows and chunk headers are whole u32 words");

/** Scratch words of the ID `encodeRow` writes. */
const words = new Uint32Array(4);

export function indexFileName(start: number): string {
  return `index-${String(start).padStart(NAME_DIGITS, "0")}.idx`;
}

/** The data file start an index file's name gives, or undefined for a name that is not one. */
export function indexFileStart(name: string): number | undefined {
  const match = NAME.exec(name);
  if (match === null) return undefined;
  const start = Number(match[1]);
  return Number.isSafeInteger(start) ? start : undefined;
}

function setU32(target: Uint8Array, at: number, value: number): void {
  target[at] = value & 0xff;
  target[at + 1] = (value >>> 8) & 0xff;
  target[at + 2] = (value >>> 16) & 0xff;
  target[at + 3] = value >>> 24;
}

/** Writes one row at `at` of `target`. */
export function encodeRow(
  target: Uint8Array,
  at: number,
  stream: number,
  id: StreamId,
  position: number,
  bodyBytes: number,
): void {
  setU32(target, at + 4 * ROW_STREAM, stream);
  setU32(target, at + 4 * ROW_BODY_BYTES, bodyBytes);
  setU32(target, at + 4 * ROW_POSITION_LOW, position % TWO_32);
  setU32(target, at + 4 * ROW_POSITION_HIGH, Math.floor(position / TWO_32));
  idWords(id, words);
  for (let word = 0; word < 4; word++) setU32(target, at + 4 * (ROW_ID + word), words[word] as number);
}

/** Fills in the header of the chunk `chunk` (header and `rows` rows, already in place) for the data file at `start`. */
export function sealChunk(chunk: Uint8Array, rows: number, start: number): void {
  setU32(chunk, CHUNK_ROWS, rows);
  setU32(chunk, CHUNK_START, start % TWO_32);
  setU32(chunk, CHUNK_START + 4, Math.floor(start / TWO_32));
  setU32(chunk, CHUNK_CRC, crc32Range(chunk, 4, chunk.byteLength));
}

/**
 * The row count of the chunk at `at` of `bytes` (which end where its file's recorded length
 * does), or a reason it does not check: it runs past the end, names another data file, or
 * fails its CRC.
 */
export function checkChunk(bytes: Uint8Array, at: number, start: number): number | string {
  if (at + INDEX_CHUNK_HEADER_BYTES > bytes.byteLength) return "a chunk header runs past the recorded length";
  const rows = getU32(bytes, at + CHUNK_ROWS);
  const end = at + INDEX_CHUNK_HEADER_BYTES + rows * INDEX_ROW_BYTES;
  if (rows === 0 || end > bytes.byteLength) return "a chunk runs past the recorded length";
  const named = getU32(bytes, at + CHUNK_START) + getU32(bytes, at + CHUNK_START + 4) * TWO_32;
  if (named !== start) return `a chunk names data file ${named}`;
  if (getU32(bytes, at + CHUNK_CRC) !== crc32Range(bytes, at + 4, end)) return "a chunk's checksum does not match";
  return rows;
}
