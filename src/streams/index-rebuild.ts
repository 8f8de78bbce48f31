/**
 * Rebuilds the streams' indexes at open from a checkpoint's SavedEntries: for each data file
 * that can hold a kept entry, from its index file when it has one that lists its records
 * (index-load.ts), otherwise by reading the data file from its header up to the checkpoint's
 * end in large sequential reads. Each stream's index gets the records that are its own (its
 * number, at or after its first live entry), in data order; then its deleted entries are
 * marked. Everything below the end was made durable before the checkpoint was installed, so
 * a record that does not check there is damage (LOGBOOK_CORRUPTION), never a torn tail.
 */
import { LogbookError } from "../errors.js";
import type { DataFiles } from "./data-files.js";
import {
  bodyMatches,
  checkFileHeader,
  DATA_FILE_HEADER_BYTES,
  decodeRecordHeader,
  RECORD_HEADER_BYTES,
  type RecordHeader,
} from "./data-format.js";
import type { IndexFiles } from "./index-files.js";
import { corrupt, loadIndexRows, type Rebuilding, readIndexFile } from "./index-load.js";
import type { SavedEntries } from "./saved-entries.js";
import { StreamIndex } from "./stream-index.js";

/** Bytes of one read while rebuilding (grown for a record larger than this). */
export const REBUILD_READ_BYTES = 4 * 1024 * 1024;

/** Checks that the data files reach `end` (the file holding its last byte exists and is long enough). */
export async function checkDataEnd(files: DataFiles, end: number): Promise<void> {
  if (end === 0) return;
  const start = files.fileOf(end - 1);
  const size = start === undefined ? -1 : await files.sizeBytes(start);
  if (start === undefined || size < end - start) {
    const file = start === undefined ? files.directory : files.path(start);
    throw new LogbookError("LOGBOOK_CORRUPTION", `stream data ends before position ${end}, which a checkpoint names`, { file });
  }
}

/**
 * The indexes of the streams `saved` records. A data file whose index file does not check is
 * read instead, and its index file forgotten (`IndexFiles.forget`); resolves the starts of
 * the data files that were read rather than loaded from an index file.
 */
export async function rebuildIndexes(
  files: DataFiles,
  indexFiles: IndexFiles,
  saved: SavedEntries,
): Promise<{ indexes: Map<number, StreamIndex>; scanned: number[] }> {
  const streams = new Map<number, Rebuilding>();
  let scanFrom = saved.endPosition;
  for (const stream of saved.streams) {
    streams.set(stream.stream, { saved: stream, index: new StreamIndex(stream.skipped) });
    if (stream.length > 0) scanFrom = Math.min(scanFrom, stream.firstPosition);
  }
  const scanned: number[] = [];
  const first = Math.max(0, files.indexOf(scanFrom));
  const starts = files.starts.slice(first).filter((start) => start < saved.endPosition);
  // The next file's index is read while this one's rows are loaded.
  let reading = starts.length > 0 ? readIndexFile(indexFiles, starts[0] as number) : undefined;
  try {
    for (const [i, start] of starts.entries()) {
      const read = await reading;
      reading = i + 1 < starts.length ? readIndexFile(indexFiles, starts[i + 1] as number) : undefined;
      // A file's own size ends it: the file after it may have been released, leaving a gap.
      const end = Math.min(start + (await files.sizeBytes(start)), saved.endPosition);
      if (read !== undefined) {
        loadIndexRows(read, files.path(start), start, end, streams);
        continue;
      }
      if (indexFiles.recordedBytes(start) !== undefined) await indexFiles.forget(start);
      scanned.push(start);
      await scanFile(files, start, end, streams);
    }
  } finally {
    // A read still on its way when a load threw: the open fails with the load's error, not this one's.
    reading?.catch(() => undefined);
  }
  const indexes = new Map<number, StreamIndex>();
  for (const [number, { saved: expected, index }] of streams) {
    for (const id of expected.deleted) index.delete(id);
    if (index.length !== expected.length || index.bodyBytes !== expected.bodyBytes) {
      throw new LogbookError(
        "LOGBOOK_CORRUPTION",
        `stream ${number}: the data holds ${index.length} entries (${index.bodyBytes} bytes), its checkpoint ${expected.length} (${expected.bodyBytes} bytes)`,
        { file: files.directory },
      );
    }
    indexes.set(number, index);
  }
  return { indexes, scanned };
}

/** Reads the records of the file at `start` up to position `end`, adding each kept one to its stream's index. */
async function scanFile(files: DataFiles, start: number, end: number, streams: Map<number, Rebuilding>): Promise<void> {
  const file = files.path(start);
  let window = Buffer.allocUnsafe(Math.min(REBUILD_READ_BYTES, end - start));
  let windowPosition = start;
  let windowBytes = 0;
  let position = start + DATA_FILE_HEADER_BYTES;
  const fill = async (from: number, bytes: number) => {
    if (bytes > window.byteLength) window = Buffer.allocUnsafe(bytes);
    const wanted = Math.min(window.byteLength, end - from);
    const read = await files.read(start, from, window.subarray(0, wanted));
    if (read === undefined || read < Math.min(bytes, wanted)) throw corrupt(file, from - start, "the file ends early");
    windowPosition = from;
    windowBytes = read;
  };
  await fill(start, DATA_FILE_HEADER_BYTES);
  checkFileHeader(window.subarray(0, windowBytes), start, file);
  while (position < end) {
    if (position + RECORD_HEADER_BYTES > windowPosition + windowBytes) await fill(position, RECORD_HEADER_BYTES);
    const header = decodeRecordHeader(window, position - windowPosition);
    if (header === undefined) throw corrupt(file, position - start, "a stream record's header checksum does not match");
    const recordEnd = position + RECORD_HEADER_BYTES + header.bodyBytes;
    if (recordEnd > end) throw corrupt(file, position - start, "a stream record runs past the checkpoint's end");
    const owner = streams.get(header.stream);
    if (owner !== undefined && position >= owner.saved.firstPosition) {
      if (recordEnd > windowPosition + windowBytes) await fill(position, recordEnd - position);
      keep(owner, header, window, position - windowPosition, position, file, start);
    }
    position = recordEnd;
  }
}

function keep(
  owner: Rebuilding,
  header: RecordHeader,
  window: Uint8Array,
  at: number,
  position: number,
  file: string,
  start: number,
): void {
  if (!bodyMatches(window, at, header)) throw corrupt(file, position - start, "a stream entry's body checksum does not match");
  owner.index.append(header.id, position, header.bodyBytes);
}
