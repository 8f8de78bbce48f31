/**
 * What open-time recovery does to the disk, one procedure each: keep a torn or cut tail aside
 * and clear it, set a segment aside, start a segment after damage, create a new log, and make
 * what it recovered durable before anything is appended after it. recovery.ts decides when.
 */
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { assert } from "../assert.js";
import type { FileHandle, FileSystem } from "../io/index.js";
import { ALIGNMENT_BYTES, BROKEN_SUFFIX, FRAME_HEADER_BYTES, LOG_ID_BYTES, SEGMENT_HEADER_BYTES } from "./format.js";
import type { ResolvedLogOptions } from "./options.js";
import type { RecoveryReport, TornTailReport } from "./recovery-report.js";
import { decodeSegmentHeader, encodeSegmentHeader, frameSeedOf, segmentName } from "./segment-header.js";
import { READ_CHUNK_BYTES } from "./segment-reader.js";
import type { CheckedSegment, ListedSegment } from "./segment-scan.js";
import type { SegmentInfo } from "./segments.js";
import { writeZeros } from "./zero-fill.js";

/** A run of zeros this long after a torn frame is taken as the end of what the crash left behind. */
const TORN_EXTENT_ZERO_RUN_BYTES = 4096;

/**
 * Writes the active segment's bytes `from`..`to` back over themselves and fdatasyncs them,
 * before any new record is appended after them. What recovery just read may be in the page
 * cache only: after an fdatasync that failed with EIO, Linux drops the failed pages from its
 * dirty accounting but keeps them readable, and no later fdatasync writes them ("fsyncgate").
 * A process that reopens without a power cut would then read records that are not durable,
 * append after them, and a later power cut would leave a hole before acknowledged records.
 * Rewriting marks those pages dirty again, so this fdatasync either makes them durable or
 * fails. Costs one write of the active segment's used part per open.
 */
export async function reassertDurable(handle: FileHandle, from: number, to: number): Promise<void> {
  const chunk = new Uint8Array(Math.min(READ_CHUNK_BYTES, to - from));
  for (let at = from; at < to; at += chunk.byteLength) {
    const view = chunk.subarray(0, Math.min(chunk.byteLength, to - at));
    let filled = 0;
    while (filled < view.byteLength) {
      const read = await handle.read(view.subarray(filled), at + filled);
      if (read === 0) throw new Error(`the segment ended at ${at + filled} while rewriting up to ${to}`);
      filled += read;
    }
    await handle.write(view, at);
  }
  await handle.datasync();
}

export async function setAside(fs: FileSystem, directory: string, segment: SegmentInfo, report: RecoveryReport): Promise<void> {
  const keptAs = `${segment.path}${BROKEN_SUFFIX}`;
  await fs.rename(segment.path, keptAs);
  await fs.syncDirectory(directory);
  report.setAside.push(keptAs);
}

/**
 * Copies the bytes of a torn or cut tail aside, then zeroes them so that nothing of them can
 * be mistaken for data once new frames are written over and after them. A torn tail ends at
 * the first run of zeros (or, `toEnd`, at the segment's end); a cut (no `reason`) at the end.
 */
export async function clearTail(
  fs: FileSystem,
  directory: string,
  segment: ListedSegment,
  offset: number,
  reason: string | undefined,
  toEnd = reason === undefined,
): Promise<TornTailReport> {
  assert(offset >= SEGMENT_HEADER_BYTES && offset % ALIGNMENT_BYTES === 0, "tail offset is an aligned frame offset");
  const handle = await fs.open(segment.path, "write");
  try {
    const end = await tornExtentEnd(handle, offset, segment.sizeBytes, toEnd);
    const bytes = new Uint8Array(end - offset);
    await handle.read(bytes, offset);
    // Nothing to keep and nothing to clear: no empty copy is made.
    if (bytes.byteLength === 0) return { file: segment.path, offset, bytes: 0, reason: reason ?? "cut at damage" };
    const keptAs = `${segment.path}.${offset}${BROKEN_SUFFIX}`;
    const names = await fs.list(directory);
    if (names.includes(keptAs.slice(directory.length + 1))) await fs.unlink(keptAs);
    // A copy that fails (ENOSPC on a full disk) is removed and the tail is not cleared: the
    // next open copies it again.
    await createDurably(fs, directory, keptAs, (aside) => aside.write(bytes, 0, { datasync: true }));
    // Only once the original bytes are safe aside are they cleared.
    await writeZeros(handle, offset, end);
    await handle.datasync();
    return { file: segment.path, offset, bytes: bytes.byteLength, reason: reason ?? "cut at damage", keptAs };
  } finally {
    await handle.close();
  }
}

/**
 * Where the bytes left by a torn frame end: the first aligned offset followed by a run of
 * zeros, or the segment's end. A cut (point-in-time) clears everything to the end.
 */
async function tornExtentEnd(handle: FileHandle, offset: number, limit: number, toEnd: boolean): Promise<number> {
  if (toEnd) return limit;
  const window = new Uint8Array(READ_CHUNK_BYTES);
  let zeroRunStart = -1;
  for (let base = offset + FRAME_HEADER_BYTES; base < limit; base += window.byteLength) {
    const read = await handle.read(window.subarray(0, Math.min(window.byteLength, limit - base)), base);
    for (let i = 0; i < read; i++) {
      if (window[i] !== 0) {
        zeroRunStart = -1;
      } else if (zeroRunStart < 0) {
        zeroRunStart = base + i;
      } else if (base + i + 1 - zeroRunStart >= TORN_EXTENT_ZERO_RUN_BYTES) {
        return Math.ceil(zeroRunStart / ALIGNMENT_BYTES) * ALIGNMENT_BYTES;
      }
    }
    if (read === 0) break;
  }
  return limit;
}

/**
 * Starts a new, empty newest segment at `firstLsn` after `previous`, whose damage recovery passed
 * over: nothing new is written after damaged bytes, and the damaged segment is freed as soon as a
 * checkpoint covers its records, as a sealed one.
 */
export async function startSegmentAfterDamage(
  fs: FileSystem,
  directory: string,
  options: ResolvedLogOptions,
  logId: Uint8Array,
  previous: CheckedSegment,
  firstLsn: number,
): Promise<CheckedSegment> {
  const name = segmentName(firstLsn);
  const path = join(directory, name);
  const header = encodeSegmentHeader({
    logId,
    firstLsn,
    previousFirstLsn: previous.firstLsn,
    createdAtMs: options.clock.wallMs(),
  });
  // A crash before this header is durable leaves a newest segment with no valid header and no
  // record: the next open sets it aside (`unfinished-rotation`) and recovers the damaged one as
  // before. Records are appended to it only once its name is durable.
  await createDurably(fs, directory, path, async (handle) => {
    if (options.preallocate) await writeZeros(handle, 0, options.segmentBytes);
    await handle.write(header, 0, { datasync: true });
  });
  const decoded = decodeSegmentHeader(header);
  assert(typeof decoded !== "string", "a segment header just encoded decodes");
  return { firstLsn, name, path, header: decoded, sizeBytes: options.preallocate ? options.segmentBytes : header.byteLength };
}

/** The first segment of a new log, open for writing. */
export interface CreatedLog {
  logId: Uint8Array;
  segment: SegmentInfo;
  handle: FileHandle;
  frameSeed: number;
}

/** Creates the directory and a new log's first segment (first LSN 1), durably. */
export async function createLogFiles(fs: FileSystem, directory: string, options: ResolvedLogOptions): Promise<CreatedLog> {
  await fs.mkdir(directory);
  // The data directory's own name must be durable too before anything in it is acknowledged.
  await fs.syncDirectory(dirname(directory));
  const logId = new Uint8Array(randomBytes(LOG_ID_BYTES));
  const name = segmentName(1);
  const path = join(directory, name);
  const header = encodeSegmentHeader({ logId, firstLsn: 1, previousFirstLsn: 0, createdAtMs: options.clock.wallMs() });
  const handle = await fs.open(path, "create");
  try {
    if (options.preallocate) {
      await writeZeros(handle, 0, options.segmentBytes);
    }
    // A crash before this header is durable leaves a headerless segment: the next open starts over.
    await handle.write(header, 0, { datasync: true });
    await fs.syncDirectory(directory);
  } catch (error) {
    await handle.close().catch(() => undefined);
    // The new segment holds nothing acknowledged: removed, a failed creation (a full disk
    // mid zero-fill) leaves no partial file filling the volume, and the next open starts over.
    await fs.unlink(path).catch(() => undefined);
    throw error;
  }
  return { logId, segment: { firstLsn: 1, name, path }, handle, frameSeed: frameSeedOf(header) };
}

/**
 * Creates the file `path` in `directory`, has `fill` write it (durably), closes it and makes its
 * name durable. If `fill` fails (a full disk), the file is closed and removed before the error is
 * rethrown, so that a failed open leaves no empty or partial file behind.
 */
async function createDurably(
  fs: FileSystem,
  directory: string,
  path: string,
  fill: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const handle = await fs.open(path, "create");
  try {
    await fill(handle);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await fs.syncDirectory(directory);
}
