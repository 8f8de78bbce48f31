/**
 * Loads a data file's records into the rebuilding streams' indexes from its index file
 * (index-format.ts) instead of the data: reads the file up to its recorded length, checks
 * every chunk, then appends each row that is a kept entry (its stream's, at or after that
 * stream's first live entry) to its stream's index. A file that is shorter than recorded or
 * whose chunk does not check loads nothing (the caller reads the data file instead); a row in
 * a chunk that checks but that cannot be a record of its data file below the checkpoint's end
 * is LOGBOOK_CORRUPTION.
 */

import { LogbookError } from "../errors.js";
import { DATA_FILE_HEADER_BYTES, RECORD_HEADER_BYTES } from "./data-format.js";
import { ENTRY_BODY_BYTES_MAX } from "./entry-body.js";
import type { IndexFiles } from "./index-files.js";
import {
  checkChunk,
  INDEX_CHUNK_HEADER_BYTES,
  INDEX_ROW_BYTES,
  ROW_BODY_BYTES,
  ROW_ID,
  ROW_POSITION_HIGH,
  ROW_POSITION_LOW,
  ROW_STREAM,
  ROW_WORDS,
} from "./index-format.js";
import type { SavedStream } from "./saved-entries.js";
import type { StreamIndex } from "./stream-index.js";

/** A stream whose index is being rebuilt: what its checkpoint recorded, and the index so far. */
export interface Rebuilding {
  saved: SavedStream;
  index: StreamIndex;
}

const TWO_32 = 2 ** 32;
/** Rows are little-endian words: a big-endian machine swaps them before viewing them as a Uint32Array. */
const BIG_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 0;
/** Scratch words of the ID of the row being loaded. */
const rowId = new Uint32Array(4);

export function corrupt(file: string, offset: number, why: string): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `${file} at ${offset}: ${why}`, { file, offset });
}

/** The chunks of an index file's bytes, as [row offset, rows] pairs; undefined when one does not check. */
function chunksOf(bytes: Uint8Array, start: number): [number, number][] | undefined {
  const chunks: [number, number][] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    const rows = checkChunk(bytes, at, start);
    if (typeof rows === "string") return undefined;
    chunks.push([at + INDEX_CHUNK_HEADER_BYTES, rows]);
    at += INDEX_CHUNK_HEADER_BYTES + rows * INDEX_ROW_BYTES;
  }
  return chunks;
}

/** An index file read and checked: its rows as words, and where each chunk's rows are. */
export interface IndexFileRows {
  words: Uint32Array;
  /** [first row's word, rows] per chunk. */
  chunks: [number, number][];
}

/**
 * Reads the index file of the data file at `start` up to its recorded length and checks every
 * chunk; resolves undefined when there is none to read or it does not check.
 */
export async function readIndexFile(indexFiles: IndexFiles, start: number): Promise<IndexFileRows | undefined> {
  const recorded = indexFiles.recordedBytes(start);
  if (recorded === undefined || recorded % 4 !== 0) return undefined;
  // A fresh ArrayBuffer: aligned for the Uint32Array view of the rows.
  const bytes = new Uint8Array(recorded);
  if ((await indexFiles.read(start, bytes)) < recorded) return undefined;
  const chunks = chunksOf(bytes, start);
  if (chunks === undefined) return undefined;
  if (BIG_ENDIAN) Buffer.from(bytes.buffer).swap32();
  return { words: new Uint32Array(bytes.buffer), chunks: chunks.map(([at, rows]) => [at / 4, rows]) };
}

/** Adds the kept entries the rows of the data file at `start` (named `file`) list below `end` to their streams' indexes. */
export function loadIndexRows(
  read: IndexFileRows,
  file: string,
  start: number,
  end: number,
  streams: Map<number, Rebuilding>,
): void {
  let next = start + DATA_FILE_HEADER_BYTES;
  for (const [first, rows] of read.chunks) next = loadRows(read.words, first, rows, next, start, end, file, streams);
  if (next !== end) throw corrupt(file, next - start, "the index file ends before the data it covers");
}

/** Appends the kept entries of `rows` rows from word `from` of `words`; returns the position after the last row's record. */
function loadRows(
  words: Uint32Array,
  from: number,
  rows: number,
  next: number,
  start: number,
  end: number,
  file: string,
  streams: Map<number, Rebuilding>,
): number {
  let owner: Rebuilding | undefined;
  let ownerNumber = -1;
  for (let at = from; at < from + rows * ROW_WORDS; at += ROW_WORDS) {
    const position = (words[at + ROW_POSITION_LOW] as number) + (words[at + ROW_POSITION_HIGH] as number) * TWO_32;
    const bodyBytes = words[at + ROW_BODY_BYTES] as number;
    // Rows follow their records: each starts where the one before ended, inside the checkpoint's data.
    if (position !== next || bodyBytes > ENTRY_BODY_BYTES_MAX || position + RECORD_HEADER_BYTES + bodyBytes > end) {
      throw corrupt(file, position - start, "the index file lists a record the data file cannot hold there");
    }
    next = position + RECORD_HEADER_BYTES + bodyBytes;
    const stream = words[at + ROW_STREAM] as number;
    if (stream !== ownerNumber) {
      ownerNumber = stream;
      owner = streams.get(stream);
    }
    if (owner === undefined || position < owner.saved.firstPosition) continue;
    const id = rowId;
    id[0] = words[at + ROW_ID] as number;
    id[1] = words[at + ROW_ID + 1] as number;
    id[2] = words[at + ROW_ID + 2] as number;
    id[3] = words[at + ROW_ID + 3] as number;
    if (!owner.index.follows(id)) throw corrupt(file, position - start, "the index file lists a stream's IDs out of order");
    owner.index.appendWords(id, position, bodyBytes);
  }
  return next;
}
