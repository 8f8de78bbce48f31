/**
 * The feed cursors file (docs/format.md, "Feed cursors"): each named cursor's acknowledged
 * LSN, and the cursors recently dropped for falling too far behind. A JSON document followed
 * by a line with its CRC-32, like the manifest, replaced atomically: written to
 * FEED-CURSORS.tmp, fdatasynced, renamed over FEED-CURSORS, directory fsynced.
 */
import { join } from "node:path";
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { readChecksummedJson, writeChecksummedJson } from "./checksummed-json.js";

export const FEED_CURSORS_NAME = "FEED-CURSORS";
const FEED_CURSORS_FORMAT = 1;

export interface StoredCursor {
  name: string;
  /** The last LSN the consumer acknowledged: reading through the cursor starts after it. */
  lsn: number;
}

export interface DroppedCursor {
  name: string;
  /** Its last acknowledged LSN. */
  lsn: number;
  /** How far behind it was, in bytes of log, when it was dropped. */
  lagBytes: number;
}

export interface FeedCursorFile {
  format: number;
  cursors: StoredCursor[];
  /** Newest last; at most DROPPED_CURSORS_KEPT (feed-cursors.ts). */
  dropped: DroppedCursor[];
}

export function emptyFeedCursorFile(): FeedCursorFile {
  return { format: FEED_CURSORS_FORMAT, cursors: [], dropped: [] };
}

/** The file in `directory`; an empty one when there is none (no cursor was ever created). */
export async function readFeedCursorFile(fs: FileSystem, directory: string): Promise<FeedCursorFile> {
  if (!(await fs.list(directory)).includes(FEED_CURSORS_NAME)) return emptyFeedCursorFile();
  const file = (await readChecksummedJson(fs, directory, FEED_CURSORS_NAME)) as FeedCursorFile;
  const valid =
    file?.format === FEED_CURSORS_FORMAT &&
    Array.isArray(file.cursors) &&
    Array.isArray(file.dropped) &&
    [...file.cursors, ...file.dropped].every(isCursorEntry);
  if (!valid) {
    const path = join(directory, FEED_CURSORS_NAME);
    throw new LogbookError("LOGBOOK_CORRUPTION", `${path} has an unknown format`, { file: path });
  }
  return file;
}

function isCursorEntry(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const { name, lsn } = value as Record<string, unknown>;
  return typeof name === "string" && name.length > 0 && Number.isSafeInteger(lsn) && (lsn as number) >= 0;
}

/**
 * Replaces the file with `file`. A crash before the rename leaves the old file (and a
 * FEED-CURSORS.tmp that the next write removes); after it, before the directory sync, either
 * file may be found, each whole: cursors then resume from an older acknowledgement, which the
 * feed's at-least-once delivery allows.
 */
export function writeFeedCursorFile(fs: FileSystem, directory: string, file: FeedCursorFile): Promise<void> {
  return writeChecksummedJson(fs, directory, FEED_CURSORS_NAME, file);
}
