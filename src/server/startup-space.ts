/**
 * The free-space check of a new store, before anything of it is created: a store whose first
 * segment cannot fit is refused with LOGBOOK_NO_SPACE naming the bytes it needs and the
 * settings that lower them. A data directory whose log already holds a segment is not checked:
 * its space is allocated, and its reads must stay available on a full disk. When the space
 * cannot be asked, nothing is refused here: Store.open reports what is wrong with the directory.
 */
import { readdir, statfs } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errnoCode, LogbookError } from "../errors.js";

/** Room for the rest of a new store: the log directory, manifest, lock and first checkpoint. */
export const NEW_STORE_HEADROOM_BYTES = 1024 * 1024;

/** The segment file of the log's first LSN; a log that has one is not new. */
const SEGMENT_NAME = /^\d+\.log$/;

export interface SpaceSettings {
  segmentBytes: number;
  preallocate: boolean;
}

export async function checkSpaceForNewStore(dataDir: string, settings: SpaceSettings): Promise<void> {
  if (await holdsSegments(join(dataDir, "log"))) return;
  // Zero-filled at creation, the first segment takes all of its bytes at once.
  const segmentNeedBytes = settings.preallocate ? settings.segmentBytes : 0;
  const needBytes = segmentNeedBytes + NEW_STORE_HEADROOM_BYTES;
  const found = await freeBytesAt(dataDir);
  if (found === undefined || found.freeBytes >= needBytes) return;
  const { existing, freeBytes } = found;
  throw new LogbookError(
    "LOGBOOK_NO_SPACE",
    `a new store in ${dataDir} needs ${needBytes} bytes free (a segment of ${settings.segmentBytes} bytes` +
      `${settings.preallocate ? ", zero-filled when created," : ""} and ${NEW_STORE_HEADROOM_BYTES} for the rest), ` +
      `but ${existing} has ${freeBytes}: free space, or lower --segment-bytes, or set --preallocate false`,
    { file: dataDir },
  );
}

/** Whether the log directory holds a segment; true when it cannot be read (Store.open reports why). */
async function holdsSegments(logDirectory: string): Promise<boolean> {
  try {
    return (await readdir(logDirectory)).some((name) => SEGMENT_NAME.test(name));
  } catch (error) {
    return errnoCode(error) !== "ENOENT";
  }
}

/** The free bytes where the directory is, or would be created; undefined when they cannot be asked. */
async function freeBytesAt(directory: string): Promise<{ existing: string; freeBytes: number } | undefined> {
  for (let current = directory; ; current = dirname(current)) {
    try {
      const space = await statfs(current);
      return { existing: current, freeBytes: space.bavail * space.bsize };
    } catch (error) {
      if (errnoCode(error) !== "ENOENT" || dirname(current) === current) return undefined;
    }
  }
}
