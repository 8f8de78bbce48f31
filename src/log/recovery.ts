/**
 * Open-time recovery: decides what of the log on disk survives, by proof rather than by guess.
 *
 * Under sync `always` the writer has at most one frame that is written but not yet
 * fdatasynced, always the last one of the newest segment (it writes a frame only after the
 * previous one is durable, and starts a segment only after the previous one is; other sync
 * modes may have several, all in the newest segment). So an invalid frame is a torn tail exactly
 * when nothing valid follows it (or, under sync `interval` or `none`, what follows was written
 * while it was not durable yet, as the later frame's header says) and it is not one flipped
 * bit away from a valid frame (a torn write loses whole sectors; one wrong bit is damage to a
 * frame that was written whole, see bit-flip.ts). Otherwise acknowledged data was damaged,
 * and the open is refused (LOGBOOK_CORRUPTION) in the default mode. docs/format.md has the rules.
 */
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { assert } from "../assert.js";
import { breakage } from "../breakage.js";
import { asDiskError, LogbookError } from "../errors.js";
import type { FileHandle, FileSystem } from "../io/file-system.js";
import {
  ALIGNMENT_BYTES,
  BROKEN_SUFFIX,
  FRAME_HEADER_BYTES,
  LOG_ID_BYTES,
  SEGMENT_HEADER_BYTES,
  SPARE_SEGMENT_NAME,
  SPARE_SEGMENT_TEMPORARY_NAME,
} from "./format.js";
import type { RecoveryMode, ResolvedLogOptions } from "./options.js";
import {
  type DecodedSegmentHeader,
  decodeSegmentHeader,
  encodeSegmentHeader,
  frameSeedOf,
  parseSegmentName,
  sameLogId,
  segmentName,
} from "./segment-header.js";
import { type LaterFrame, READ_CHUNK_BYTES, SegmentReader } from "./segment-reader.js";
import type { SegmentInfo } from "./segments.js";
import { writeZeros } from "./zero-fill.js";

/** A run of zeros this long after a torn frame is taken as the end of what the crash left behind. */
const TORN_EXTENT_ZERO_RUN_BYTES = 4096;
/** How far the deliberately broken variant `keepTornTail` (src/breakage.ts) skips. */
const BROKEN_TAIL_SKIP_BYTES = 512;

export interface TornTailReport {
  file: string;
  offset: number;
  bytes: number;
  reason: string;
  /** Where the original bytes were kept before the tail was cleared; absent when nothing was changed. */
  keptAs?: string;
}

export interface DamageReport {
  file: string;
  offset: number;
  reason: string;
  /** The first LSN that was not recovered. */
  fromLsn: number;
  /** Damage passed over because no record in it is needed (`requiredFromLsn`): the first LSN after it. */
  untilLsn?: number;
}

export interface RecoveryReport {
  mode: RecoveryMode;
  /** True when this open created a new, empty log. */
  created: boolean;
  segments: number;
  firstLsn: number;
  /** LSN of the last record recovered; firstLsn - 1 when the log is empty. */
  lastLsn: number;
  scannedBytes: number;
  durationMs: number;
  tornTail?: TornTailReport;
  /** point-in-time: where the log was cut and what was lost from there on. */
  lostRange?: DamageReport;
  /** salvage, and damage below `requiredFromLsn` in any mode: the damaged regions reading skips. */
  skipped: DamageReport[];
  /** Whole files set aside as `*.broken` (an unfinished rotation, segments after a point-in-time cut). */
  setAside: string[];
}

export interface RecoveredLog {
  logId: Uint8Array;
  segments: SegmentInfo[];
  /** Open for writing unless read-only. */
  activeHandle: FileHandle;
  /** The active segment's frame seed: frames appended to it are bound to its header. */
  activeFrameSeed: number;
  tailPosition: number;
  nextLsn: number;
  /** A complete spare segment from an earlier run is in the directory. */
  spareOnDisk: boolean;
  report: RecoveryReport;
}

function corruption(message: string, file: string, offset: number, lsn?: number): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `${message} (${file} at offset ${offset})`, {
    file,
    offset,
    ...(lsn === undefined ? {} : { lsn }),
  });
}

interface ListedSegment extends SegmentInfo {
  header: DecodedSegmentHeader | string;
  sizeBytes: number;
}

/**
 * Writes the active segment (header and frames) back over itself and fdatasyncs it, before any new
 * record is appended after them. What recovery just read may be in the page cache only: after
 * an fdatasync that failed with EIO, Linux drops the failed pages from its dirty accounting but
 * keeps them readable, and no later fdatasync writes them ("fsyncgate"). A process that reopens
 * without a power cut would then read records that are not durable, append after them, and a
 * later power cut would leave a hole before acknowledged records. Rewriting marks those pages
 * dirty again, so this fdatasync either makes them durable or fails. (Found by the fault
 * simulation, test/sim/log-faults.test.ts, seed 4.) Costs one write of the active segment's
 * used part per open.
 */
async function reassertDurable(handle: FileHandle, from: number, to: number): Promise<void> {
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

export async function recoverLog(fs: FileSystem, directory: string, options: ResolvedLogOptions): Promise<RecoveredLog> {
  const startedMs = options.clock.monotonicMs();
  const names = await fs.list(directory);
  const listed = await listSegments(fs, directory, names);
  const report: RecoveryReport = {
    mode: options.recovery,
    created: false,
    segments: 0,
    firstLsn: 1,
    lastLsn: 0,
    scannedBytes: 0,
    durationMs: 0,
    skipped: [],
    setAside: [],
  };
  const mutable = !options.readOnly && options.recovery !== "strict";
  // A spare that was still being zero-filled may be incomplete; a complete one is kept for the next rotation.
  if (!options.readOnly && names.includes(SPARE_SEGMENT_TEMPORARY_NAME)) {
    await fs.unlink(join(directory, SPARE_SEGMENT_TEMPORARY_NAME));
  }

  // A newest segment with no valid header is an unfinished rotation (or creation): nothing in it
  // was acknowledged, since records are acknowledged only after the header is durable.
  const newest = listed[listed.length - 1];
  // A recycled spare renamed into place still carries its old header until the new one is
  // durable: that, too, is an unfinished rotation (simulator, seed 655 of the fault sweep).
  if (newest !== undefined && typeof newest.header !== "string" && newest.header.firstLsn !== newest.firstLsn) {
    newest.header = `segment header says first LSN ${newest.header.firstLsn}, its name says ${newest.firstLsn}`;
  }
  if (newest !== undefined && typeof newest.header === "string") {
    await refuseIfFramesFollow(fs, newest);
    if (!mutable) {
      if (options.recovery === "strict") throw corruption(newest.header, newest.path, 0);
    } else {
      await setAside(fs, directory, newest, report);
    }
    listed.pop();
  }
  if (listed.length === 0) {
    if (report.setAside.length === 0 && (!options.create || options.readOnly)) {
      throw new LogbookError("LOGBOOK_NOT_FOUND", `no log in ${directory}`, { file: directory });
    }
    if (options.readOnly) throw new LogbookError("LOGBOOK_NOT_FOUND", `no complete log in ${directory}`, { file: directory });
    return createLog(fs, directory, options, report, startedMs);
  }
  const segments = checkHeaders(listed);
  const oldest = segments[0] as ListedSegment;
  const logId = (oldest.header as DecodedSegmentHeader).logId;
  report.firstLsn = oldest.firstLsn;

  let expected = report.firstLsn;
  let tailPosition = SEGMENT_HEADER_BYTES;
  let cutAt = -1;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as ListedSegment;
    const isLast = index === segments.length - 1;
    if (expected !== segment.firstLsn) {
      const previous = segments[index - 1] as ListedSegment;
      const damage = {
        file: previous.path,
        offset: tailPosition,
        reason: `LSN gap: ${previous.name} ends before LSN ${expected}, ${segment.name} starts at ${segment.firstLsn}`,
        fromLsn: expected,
      };
      if (options.recovery === "point-in-time") {
        report.lostRange = damage;
        cutAt = index - 1;
        break;
      }
      if (options.recovery === "salvage") {
        report.skipped.push(damage);
        expected = segment.firstLsn;
      } else {
        throw corruption(damage.reason, damage.file, damage.offset, expected);
      }
    }
    if (!isLast && options.verifyOnOpen === "tail" && options.recovery !== "point-in-time") {
      expected = (segments[index + 1] as ListedSegment).firstLsn;
      continue;
    }
    const scan = await scanSegment(
      fs,
      segment,
      expected,
      (segments[index + 1] as ListedSegment | undefined)?.firstLsn,
      options,
      report,
    );
    expected = scan.nextLsn;
    tailPosition = scan.tailPosition;
    if (scan.damage === undefined) continue;
    // Garbage after the last frame of a sealed segment whose successor starts exactly where its
    // frames end hides nothing: the LSN chain proves no record is missing. It is never read.
    const successor = segments[index + 1];
    if (!isLast && !scan.damage.provenLater && successor !== undefined && successor.firstLsn === expected) continue;
    // Damage that is not a torn tail: refused, cut (point-in-time) or skipped (salvage, inside scanSegment).
    if (!isLast || scan.damage.provenLater || scan.damage.flipped || options.recovery === "strict") {
      if (options.recovery === "point-in-time") {
        report.lostRange = { file: segment.path, offset: scan.damage.offset, reason: scan.damage.reason, fromLsn: expected };
        cutAt = index;
        if (mutable) await clearTail(fs, directory, segment, scan.damage.offset, undefined);
        break;
      }
      const detail = scan.damage.provenLater ? `${scan.damage.reason}, followed by valid records` : scan.damage.reason;
      throw corruption(detail, segment.path, scan.damage.offset, expected);
    }
    report.tornTail = { file: segment.path, offset: scan.damage.offset, bytes: 0, reason: scan.damage.reason };
    if (breakage.keepTornTail && tailPosition + BROKEN_TAIL_SKIP_BYTES + FRAME_HEADER_BYTES < options.segmentBytes) {
      tailPosition += BROKEN_TAIL_SKIP_BYTES; // the deliberate bug: append after the torn bytes, leave them
    } else if (mutable) {
      report.tornTail = await clearTail(fs, directory, segment, scan.damage.offset, scan.damage.reason, scan.damage.laterFrames);
    }
  }
  if (cutAt >= 0) {
    for (const later of segments.splice(cutAt + 1)) {
      if (mutable) await setAside(fs, directory, later, report);
    }
  }
  const newestSegment = segments[segments.length - 1] as ListedSegment;
  if (!options.readOnly && report.skipped.some((damage) => damage.file === newestSegment.path)) {
    segments.push(await startSegmentAfterDamage(fs, directory, options, logId, newestSegment, expected));
    tailPosition = SEGMENT_HEADER_BYTES;
  }
  report.segments = segments.length;
  report.lastLsn = expected - 1;
  const active = segments[segments.length - 1] as ListedSegment;
  const activeHandle = await fs.open(active.path, options.readOnly ? "read" : "write");
  if (!options.readOnly) {
    try {
      await reassertDurable(activeHandle, 0, tailPosition);
      // The same for names: a segment created by a process whose directory fsync never ran
      // (it failed first) is listed from the cache, and would vanish at a power cut with
      // every record acknowledged into it from now on. (test/sim/log-faults.test.ts, seed 200.)
      await fs.syncDirectory(directory);
    } catch (error) {
      await activeHandle.close().catch(() => undefined);
      throw asDiskError(error, `cannot make the tail of ${active.path} durable`, { file: active.path });
    }
  }
  report.durationMs = options.clock.monotonicMs() - startedMs;
  return {
    logId,
    segments: segments.map(({ firstLsn, name, path }) => ({ firstLsn, name, path })),
    activeHandle,
    activeFrameSeed: (active.header as DecodedSegmentHeader).frameSeed,
    tailPosition,
    nextLsn: expected,
    spareOnDisk: names.includes(SPARE_SEGMENT_NAME),
    report,
  };
}

async function listSegments(fs: FileSystem, directory: string, names: string[]): Promise<ListedSegment[]> {
  const found: { firstLsn: number; name: string }[] = [];
  for (const name of names) {
    const firstLsn = parseSegmentName(name);
    if (firstLsn !== undefined) found.push({ firstLsn, name });
  }
  found.sort((a, b) => a.firstLsn - b.firstLsn);
  const listed: ListedSegment[] = [];
  for (const { firstLsn, name } of found) {
    const path = join(directory, name);
    const handle = await fs.open(path, "read");
    try {
      const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
      const read = await handle.read(bytes, 0);
      listed.push({
        firstLsn,
        name,
        path,
        header: decodeSegmentHeader(bytes.subarray(0, read)),
        sizeBytes: await handle.sizeBytes(),
      });
    } finally {
      await handle.close();
    }
  }
  return listed;
}

/** Every header must be valid, of the same log, named after its first LSN, and chained to its predecessor. */
function checkHeaders(listed: ListedSegment[]): ListedSegment[] {
  let logId: Uint8Array | undefined;
  for (let index = 0; index < listed.length; index++) {
    const segment = listed[index] as ListedSegment;
    const header = segment.header;
    if (typeof header === "string") throw corruption(header, segment.path, 0);
    if (header.firstLsn !== segment.firstLsn) {
      throw corruption(`segment header says first LSN ${header.firstLsn}, its name says ${segment.firstLsn}`, segment.path, 0);
    }
    logId ??= header.logId;
    if (!sameLogId(logId, header.logId)) throw corruption("segment belongs to another log", segment.path, 0);
    const previous = listed[index - 1];
    if (previous !== undefined && header.previousFirstLsn !== previous.firstLsn) {
      throw corruption(
        `a segment is missing: ${segment.name} follows the segment starting at LSN ${header.previousFirstLsn}, found ${previous.name}`,
        segment.path,
        0,
      );
    }
  }
  return listed;
}

interface SegmentScan {
  nextLsn: number;
  tailPosition: number;
  /**
   * `provenLater`: a frame written after it was durable follows; `flipped`: the frame is one bit
   * from valid. Either way, not a torn tail. `laterFrames`: a torn tail with frames after it
   * (sync `interval` or `none`), cut to the end of the segment.
   */
  damage?: { offset: number; reason: string; provenLater: boolean; laterFrames: boolean; flipped: boolean };
}

async function scanSegment(
  fs: FileSystem,
  segment: ListedSegment,
  firstLsn: number,
  /** The next segment's first LSN; undefined for the newest segment. */
  successorFirstLsn: number | undefined,
  options: ResolvedLogOptions,
  report: RecoveryReport,
): Promise<SegmentScan> {
  const { recovery: mode, requiredFromLsn } = options;
  const handle = await fs.open(segment.path, "read");
  try {
    const reader = new SegmentReader(handle, segment.sizeBytes, (segment.header as DecodedSegmentHeader).frameSeed);
    let expected = firstLsn;
    let position = SEGMENT_HEADER_BYTES;
    for (;;) {
      const check = await reader.checkAt(position, expected);
      if (check.kind === "valid") {
        position += check.frameBytes;
        expected += check.recordCount;
        report.scannedBytes += check.frameBytes;
        continue;
      }
      // Zeros, or bytes that are not a frame of this segment (a recycled file's old frames, the
      // middle of one, a torn header): the end of the data, unless a frame of this segment
      // follows. A header one bit away from checking is a damaged frame, not the end.
      const notAFrame = check.kind === "end" || check.kind === "stale" || check.kind === "foreign";
      const flipped =
        (check.kind === "damaged" || check.kind === "foreign") && (await reader.isOneBitFromValid(position, expected));
      const later = await reader.findLaterFrame(position, expected);
      if (notAFrame && !flipped && later === undefined) return { nextLsn: expected, tailPosition: position };
      const found = check.kind === "damaged" || check.kind === "foreign" ? check.reason : "no frame";
      const damaged =
        notAFrame && !flipped ? `${found} where LSN ${expected} was expected, but frames of this segment follow` : found;
      const reason = flipped ? `${damaged}, one bit away from a valid frame (damaged after it was written)` : damaged;
      // A flipped bit in a frame whose every record lies below requiredFromLsn: those records are
      // not needed. Reported, and passed over (other damage there still refuses: segment-reader.ts).
      const end =
        expected < requiredFromLsn ? await reader.findFlippedFrameEnd(position, expected, successorFirstLsn) : undefined;
      if (end !== undefined && expected < end.firstLsn && end.firstLsn <= requiredFromLsn) {
        report.skipped.push({ file: segment.path, offset: position, reason, fromLsn: expected, untilLsn: end.firstLsn });
        position = end.offset;
        expected = end.firstLsn;
        continue;
      }
      if (mode === "salvage" && later !== undefined) {
        report.skipped.push({ file: segment.path, offset: position, reason, fromLsn: expected });
        position = later.offset;
        expected = later.firstLsn;
        continue;
      }
      // A later frame proves the damage was durable before it only if its header says so: under
      // sync `interval` or `none` it may have been written while the damaged records were not
      // yet durable, and a power cut then tears them and keeps it (frame.ts, byte 20). Any later
      // frame that says so is proof: a power cut cannot lose what was durable when it was written.
      const tornUnderIt = later !== undefined && !(await provenDurable(reader, later, expected));
      return {
        nextLsn: expected,
        tailPosition: position,
        damage: {
          offset: position,
          reason: tornUnderIt ? `${reason}; later frames were written before it was durable` : reason,
          provenLater: later !== undefined && !tornUnderIt,
          laterFrames: tornUnderIt,
          flipped,
        },
      };
    }
  } finally {
    await handle.close();
  }
}

/** Whether `first` or any later frame of the segment was written when LSN `lsn` was already durable. */
async function provenDurable(reader: SegmentReader, first: LaterFrame, lsn: number): Promise<boolean> {
  for (let later: LaterFrame | undefined = first; later !== undefined; later = await reader.findLaterFrame(later.offset, lsn)) {
    if (lsn < later.firstLsn - later.unsyncedBefore) return true;
  }
  return false;
}

/**
 * A newest segment whose header is invalid but that holds any frame of its own was damaged, not
 * torn: frames are written only once the header is durable. Anywhere, not only first: a
 * misdirected write over sector 0 takes the header and the first frames with it (simulator).
 */
async function refuseIfFramesFollow(fs: FileSystem, segment: ListedSegment): Promise<void> {
  const handle = await fs.open(segment.path, "read");
  try {
    // Without a header there is no frame seed to check frames by: look for records, whose
    // LSNs tell this segment's own (at least its name's first LSN) from a recycled file's.
    // From offset 0: a misdirected write over sector 0 leaves records where the header was.
    const reader = new SegmentReader(handle, segment.sizeBytes, 0);
    const own = await reader.findOwnTraceFrom(0, segment.firstLsn);
    if (own !== undefined) throw corruption(`${segment.header as string} but records of its own follow`, segment.path, 0);
  } finally {
    await handle.close();
  }
}

/**
 * Starts a new, empty newest segment at `firstLsn` after `previous`, whose damage recovery passed
 * over: nothing new is written after damaged bytes, and the damaged segment is freed as soon as a
 * checkpoint covers its records, as a sealed one.
 */
async function startSegmentAfterDamage(
  fs: FileSystem,
  directory: string,
  options: ResolvedLogOptions,
  logId: Uint8Array,
  previous: ListedSegment,
  firstLsn: number,
): Promise<ListedSegment> {
  const name = segmentName(firstLsn);
  const path = join(directory, name);
  const header = encodeSegmentHeader({
    logId,
    firstLsn,
    previousFirstLsn: previous.firstLsn,
    createdAtMs: options.clock.wallMs(),
  });
  const handle = await fs.open(path, "create");
  try {
    if (options.preallocate) await writeZeros(handle, 0, options.segmentBytes);
    // A crash before this header is durable leaves a newest segment with no valid header and no
    // record: the next open sets it aside (rule 6) and recovers the damaged one as before.
    await handle.write(header, 0, { datasync: true });
  } catch (error) {
    // It holds nothing: removed, so that a failed open (a full disk) leaves no partial file.
    await handle.close().catch(() => undefined);
    await fs.unlink(path).catch(() => undefined);
    throw error;
  }
  await handle.close();
  // Records are appended to it only once its name is durable.
  await fs.syncDirectory(directory);
  const decoded = decodeSegmentHeader(header);
  assert(typeof decoded !== "string", "a segment header just encoded decodes");
  return { firstLsn, name, path, header: decoded, sizeBytes: options.preallocate ? options.segmentBytes : header.byteLength };
}

async function setAside(fs: FileSystem, directory: string, segment: SegmentInfo, report: RecoveryReport): Promise<void> {
  const keptAs = `${segment.path}${BROKEN_SUFFIX}`;
  await fs.rename(segment.path, keptAs);
  await fs.syncDirectory(directory);
  report.setAside.push(keptAs);
}

/**
 * Copies the bytes of a torn or cut tail aside, then zeroes them so that nothing of them can
 * be mistaken for data once new frames are written over and after them.
 */
async function clearTail(
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
    const aside = await fs.open(keptAs, "create");
    try {
      await aside.write(bytes, 0, { datasync: true });
    } catch (error) {
      // A copy that failed (ENOSPC on a full disk) is empty or partial: removed, so that failed
      // opens leave no such files behind. The tail is not cleared; the next open copies it again.
      await aside.close().catch(() => undefined);
      await fs.unlink(keptAs).catch(() => undefined);
      throw error;
    }
    await aside.close();
    await fs.syncDirectory(directory);
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

async function createLog(
  fs: FileSystem,
  directory: string,
  options: ResolvedLogOptions,
  report: RecoveryReport,
  startedMs: number,
): Promise<RecoveredLog> {
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
  report.created = true;
  report.segments = 1;
  report.durationMs = options.clock.monotonicMs() - startedMs;
  return {
    logId,
    segments: [{ firstLsn: 1, name, path }],
    activeHandle: handle,
    activeFrameSeed: frameSeedOf(header),
    tailPosition: SEGMENT_HEADER_BYTES,
    nextLsn: 1,
    spareOnDisk: false,
    report,
  };
}
