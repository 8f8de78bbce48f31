/**
 * What a checkpoint records of the stream data (EntryStorage.capture): where the data ends,
 * which data files hold entries, how long each index file is, and per stream where its
 * entries start and which of them are deleted. A plain JSON-able object (IDs are binary strings, which JSON escapes as it must);
 * whoever reads one back from a file checks it with `checkSavedEntries` first.
 */
import { LogbookError } from "../errors.js";
import type { IndexExtent } from "./index-files.js";
import { isStreamId, type StreamId } from "./stream-id.js";

export interface SavedStream {
  /** The stream's number, as the store gave it to `EntryStorage.entries`. */
  readonly stream: number;
  /** Data position of its first live entry (the data end when it has none): records below it are not its own. */
  readonly firstPosition: number;
  /** Slots of its first index block before that entry (so rebuilt blocks have the same boundaries). */
  readonly skipped: number;
  readonly length: number;
  readonly bodyBytes: number;
  /** Deleted entries at or after its first live entry, ascending. */
  readonly deleted: readonly StreamId[];
}

export interface SavedEntries {
  /** Every byte of stream data below this position belongs to this checkpoint; bytes past it do not. */
  readonly endPosition: number;
  /** Start positions of the data files that hold a live entry of this checkpoint, ascending. */
  readonly files: readonly number[];
  /** The streams, by ascending number. */
  readonly streams: readonly SavedStream[];
  /**
   * The data files that have an index file listing their records, with its length, by
   * ascending start (absent in a checkpoint written before index files: every file is read).
   */
  readonly indexes?: readonly IndexExtent[];
}

/** Streams one checkpoint may record. */
export const SAVED_STREAMS_MAX = 2 ** 32;

function corrupt(why: string): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `saved stream entries: ${why}`);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function checkStream(value: unknown, endPosition: number, previous: number): SavedStream {
  if (typeof value !== "object" || value === null) throw corrupt("a stream is not an object");
  const stream = value as Record<string, unknown>;
  if (!isCount(stream.stream) || stream.stream >= SAVED_STREAMS_MAX || stream.stream <= previous) {
    throw corrupt("stream numbers are ascending u32 values");
  }
  for (const field of ["firstPosition", "skipped", "length", "bodyBytes"] as const) {
    if (!isCount(stream[field])) throw corrupt(`stream ${stream.stream}: ${field} is not a count`);
  }
  if ((stream.firstPosition as number) > endPosition) throw corrupt(`stream ${stream.stream} starts past the end`);
  const deleted = stream.deleted;
  if (!Array.isArray(deleted)) throw corrupt(`stream ${stream.stream}: deleted is not a list`);
  for (const [i, id] of deleted.entries()) {
    if (!isStreamId(id) || (i > 0 && id <= (deleted[i - 1] as string)))
      throw corrupt(`stream ${stream.stream}: deleted IDs ascend`);
  }
  return stream as unknown as SavedStream;
}

/** `value` as SavedEntries, once each field is checked; LOGBOOK_CORRUPTION otherwise. */
export function checkSavedEntries(value: unknown): SavedEntries {
  if (typeof value !== "object" || value === null) throw corrupt("not an object");
  const saved = value as Record<string, unknown>;
  if (!isCount(saved.endPosition)) throw corrupt("endPosition is not a count");
  const { files, streams } = saved;
  if (!Array.isArray(files) || !Array.isArray(streams)) throw corrupt("files and streams are lists");
  for (const [i, start] of files.entries()) {
    if (!isCount(start) || start >= saved.endPosition || (i > 0 && start <= (files[i - 1] as number))) {
      throw corrupt("file starts ascend below the end");
    }
  }
  let previous = -1;
  for (const stream of streams) previous = checkStream(stream, saved.endPosition, previous).stream;
  if (saved.indexes !== undefined) checkIndexes(saved.indexes, saved.endPosition);
  return saved as unknown as SavedEntries;
}

function checkIndexes(indexes: unknown, endPosition: number): void {
  if (!Array.isArray(indexes)) throw corrupt("indexes is not a list");
  let previous = -1;
  for (const extent of indexes) {
    if (typeof extent !== "object" || extent === null) throw corrupt("an index extent is not an object");
    const { start, bytes } = extent as Record<string, unknown>;
    if (!isCount(start) || start >= endPosition || start <= previous) throw corrupt("index starts ascend below the end");
    if (!isCount(bytes)) throw corrupt(`index ${start}: bytes is not a count`);
    previous = start;
  }
}
