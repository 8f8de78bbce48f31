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
  ROW_POSITION,
  ROW_STREAM,
} from "./index-format.js";
import type { SavedStream } from "./saved-entries.js";
import type { StreamIndex } from "./stream-index.js";

/** A stream whose index is being rebuilt: what its checkpoint recorded, and the index so far. */
export interface Rebuilding {
  saved: SavedStream;
  index: StreamIndex;
}

const TWO_32 = 2 ** 32;
/** Scratch words of the row being loaded. */
const words = new Uint32Array(4);

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

/**
 * Adds the kept entries the index file of the data file at `start` (named `file`) lists below
 * `end` to their streams' indexes; resolves false, having added none, when it has no index
 * file to read or that file does not check.
 */
export async function loadIndexFile(
  indexFiles: IndexFiles,
  file: string,
  start: number,
  end: number,
  streams: Map<number, Rebuilding>,
): Promise<boolean> {
  const recorded = indexFiles.recordedBytes(start);
  if (recorded === undefined) return false;
  const allocated = Buffer.allocUnsafe(recorded);
  const bytes = new Uint8Array(allocated.buffer, allocated.byteOffset, recorded);
  if ((await indexFiles.read(start, bytes)) < recorded) return false;
  const chunks = chunksOf(bytes, start);
  if (chunks === undefined) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let next = start + DATA_FILE_HEADER_BYTES;
  let owner: Rebuilding | undefined;
  let ownerNumber = -1;
  for (const [first, rows] of chunks) {
    for (let at = first; at < first + rows * INDEX_ROW_BYTES; at += INDEX_ROW_BYTES) {
      const position = view.getUint32(at + ROW_POSITION, true) + view.getUint32(at + ROW_POSITION + 4, true) * TWO_32;
      const bodyBytes = view.getUint32(at + ROW_BODY_BYTES, true);
      // Rows follow their records: each starts where the one before ended, inside the checkpoint's data.
      if (position !== next || bodyBytes > ENTRY_BODY_BYTES_MAX || position + RECORD_HEADER_BYTES + bodyBytes > end) {
        throw corrupt(file, position - start, "the index file lists a record the data file cannot hold there");
      }
      next = position + RECORD_HEADER_BYTES + bodyBytes;
      const stream = view.getUint32(at + ROW_STREAM, true);
      if (stream !== ownerNumber) {
        ownerNumber = stream;
        owner = streams.get(stream);
      }
      if (owner === undefined || position < owner.saved.firstPosition) continue;
      words[0] = view.getUint32(at + ROW_ID, false);
      words[1] = view.getUint32(at + ROW_ID + 4, false);
      words[2] = view.getUint32(at + ROW_ID + 8, false);
      words[3] = view.getUint32(at + ROW_ID + 12, false);
      if (!owner.index.follows(words)) throw corrupt(file, position - start, "the index file lists a stream's IDs out of order");
      owner.index.appendWords(words, position, bodyBytes);
    }
  }
  if (next !== end) throw corrupt(file, next - start, "the index file ends before the data it covers");
  return true;
}
