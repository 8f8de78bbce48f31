/**
 * The index rows (index-format.ts) of the records appended since they were last handed to a
 * checkpoint, grouped by data file. Each row is encoded when its record is appended, into a
 * chunk buffer that starts with room for the chunk header, so a checkpoint writes each file's
 * new rows as one chunk without copying them again. What the buffer holds is bounded by the
 * entries appended between two checkpoints (the store's checkpoint interval bounds those).
 */
import { encodeRow, INDEX_CHUNK_HEADER_BYTES, INDEX_ROW_BYTES } from "./index-format.js";
import type { StreamId } from "./stream-id.js";

/** Rows a new buffer has room for; it doubles as rows come. */
const ROWS_INITIAL = 1024;

/** The rows of one data file: a chunk in the making (its header bytes still blank). */
export interface FileRows {
  /** The data file's start position. */
  readonly start: number;
  /** Header room, then `rows` rows. */
  chunk: Uint8Array;
  rows: number;
}

export class IndexRows {
  private files: FileRows[] = [];
  private last: FileRows | undefined;

  /** Adds the row of a record of `stream` appended to the data file at `start` (the newest file). */
  add(start: number, stream: number, id: StreamId, position: number, bodyBytes: number): void {
    let file = this.last;
    if (file === undefined || file.start !== start) {
      file = { start, chunk: new Uint8Array(INDEX_CHUNK_HEADER_BYTES + ROWS_INITIAL * INDEX_ROW_BYTES), rows: 0 };
      this.files.push(file);
      this.last = file;
    }
    const at = INDEX_CHUNK_HEADER_BYTES + file.rows * INDEX_ROW_BYTES;
    if (at + INDEX_ROW_BYTES > file.chunk.byteLength) {
      const grown = new Uint8Array(INDEX_CHUNK_HEADER_BYTES + 2 * (file.chunk.byteLength - INDEX_CHUNK_HEADER_BYTES));
      grown.set(file.chunk.subarray(0, at));
      file.chunk = grown;
    }
    encodeRow(file.chunk, at, stream, id, position, bodyBytes);
    file.rows++;
  }

  /** Hands out the rows gathered so far, by ascending data file, and starts afresh. */
  take(): FileRows[] {
    const taken = this.files;
    this.files = [];
    this.last = undefined;
    return taken;
  }

  /** Bytes held. */
  get bytes(): number {
    let bytes = 0;
    for (const file of this.files) bytes += file.chunk.byteLength;
    return bytes;
  }
}
