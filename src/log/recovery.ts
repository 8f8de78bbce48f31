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
 * frame that was written whole, see bit-flip.ts). Otherwise acknowledged data was damaged.
 *
 * The rules are a table (docs/format.md, "Telling a torn tail from damage"): segment-scan.ts
 * reads and gathers the facts, recovery-rules.ts names what was found and the recovery mode's
 * action for it, this file carries the action out with the procedures of recovery-actions.ts.
 */
import { join } from "node:path";
import { AssertionError, assert } from "../assert.js";
import { asDiskError, LogbookError } from "../errors.js";
import type { FileHandle, FileSystem } from "../io/index.js";
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, SPARE_SEGMENT_NAME, SPARE_SEGMENT_TEMPORARY_NAME } from "./format.js";
import type { ResolvedLogOptions } from "./options.js";
import { clearTail, createLogFiles, reassertDurable, setAside, startSegmentAfterDamage } from "./recovery-actions.js";
import { type DamageReport, emptyRecoveryReport, type RecoveryReport } from "./recovery-report.js";
import {
  actionFor,
  classifyFinding,
  classifyHeader,
  type FindingClass,
  type HeaderFacts,
  type RecoveryAction,
} from "./recovery-rules.js";
import { sameLogId } from "./segment-header.js";
import {
  type CheckedSegment,
  type Finding,
  headerDamage,
  holdsOwnRecords,
  type ListedSegment,
  listSegments,
  SegmentScan,
} from "./segment-scan.js";
import type { SegmentInfo } from "./segments.js";

export type { DamageReport, RecoveryReport, TornTailReport } from "./recovery-report.js";

/** How far the deliberately broken action `append-after-tail` writes past a torn tail. */
const BROKEN_TAIL_SKIP_BYTES = 512;

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

/** One open's recovery: where, how, and the report it fills. */
interface Recovery {
  fs: FileSystem;
  directory: string;
  options: ResolvedLogOptions;
  report: RecoveryReport;
  /** Actions may change the disk: neither a read-only open nor `strict`. */
  writable: boolean;
}

/** Where the recovered records end: the next LSN, and the offset in the last kept segment. */
interface ChainEnd {
  nextLsn: number;
  tailPosition: number;
}

function corruption(message: string, file: string, offset: number, lsn?: number): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `${message} (${file} at offset ${offset})`, {
    file,
    offset,
    ...(lsn === undefined ? {} : { lsn }),
  });
}

function actionOf(run: Recovery, found: FindingClass): RecoveryAction {
  return actionFor(run.options.recoveryRules, found, run.options.recovery);
}

/** A rules table that gives a class an action that cannot be carried out where it is found is a bug. */
function unsupported(found: FindingClass, action: RecoveryAction): never {
  throw new AssertionError(`the recovery rules give ${found} the action ${action}, which does not apply there`);
}

export async function recoverLog(fs: FileSystem, directory: string, options: ResolvedLogOptions): Promise<RecoveredLog> {
  const startedMs = options.clock.monotonicMs();
  const names = await fs.list(directory);
  const listed = await listSegments(fs, directory, names);
  const run: Recovery = {
    fs,
    directory,
    options,
    report: emptyRecoveryReport(options.recovery),
    writable: !options.readOnly && options.recovery !== "strict",
  };
  // A spare that was still being zero-filled may be incomplete; a complete one is kept for the next rotation.
  if (!options.readOnly && names.includes(SPARE_SEGMENT_TEMPORARY_NAME)) {
    await fs.unlink(join(directory, SPARE_SEGMENT_TEMPORARY_NAME));
  }
  await recoverNewestHeader(run, listed);
  if (listed.length === 0) return createLog(run, startedMs);
  const segments = checkHeaders(run, listed);
  run.report.firstLsn = (segments[0] as CheckedSegment).firstLsn;
  const end = await recoverChain(run, segments);
  return openActive(run, segments, end, names.includes(SPARE_SEGMENT_NAME), startedMs);
}

/**
 * The newest segment's header, before any other: one that cannot be used is an unfinished
 * rotation (or creation) when nothing of its own is in the file, since records are acknowledged
 * only after the header is durable. Set aside, the previous segment is the newest again.
 */
async function recoverNewestHeader(run: Recovery, listed: ListedSegment[]): Promise<void> {
  const newest = listed[listed.length - 1];
  const damage = newest === undefined ? undefined : headerDamage(newest);
  if (newest === undefined || damage === undefined) return;
  const found = classifyHeader({ damage, newest: true, ownRecordsFollow: await holdsOwnRecords(run.fs, newest) });
  assert(found !== undefined, "a header that cannot be used has a class");
  const action = actionOf(run, found);
  if (action === "refuse") {
    throw corruption(found === "damaged-header" ? `${damage} but records of its own follow` : damage, newest.path, 0);
  }
  if (action !== "set-aside") unsupported(found, action);
  if (run.writable) await setAside(run.fs, run.directory, newest, run.report);
  listed.pop();
}

/** No segment is left: a new log, unless the open may not create one. */
async function createLog(run: Recovery, startedMs: number): Promise<RecoveredLog> {
  const { options, directory, report } = run;
  if (report.setAside.length === 0 && (!options.create || options.readOnly)) {
    throw new LogbookError("LOGBOOK_NOT_FOUND", `no log in ${directory}`, { file: directory });
  }
  if (options.readOnly) throw new LogbookError("LOGBOOK_NOT_FOUND", `no complete log in ${directory}`, { file: directory });
  const created = await createLogFiles(run.fs, directory, options);
  report.created = true;
  report.segments = 1;
  report.durationMs = options.clock.monotonicMs() - startedMs;
  return {
    logId: created.logId,
    segments: [created.segment],
    activeHandle: created.handle,
    activeFrameSeed: created.frameSeed,
    tailPosition: SEGMENT_HEADER_BYTES,
    nextLsn: 1,
    spareOnDisk: false,
    report,
  };
}

/** Every header, oldest first: usable, of the oldest segment's log, chained to its predecessor. */
function checkHeaders(run: Recovery, listed: ListedSegment[]): CheckedSegment[] {
  const checked: CheckedSegment[] = [];
  for (const segment of listed) {
    const header = segment.header;
    const previous = checked[checked.length - 1];
    const facts: HeaderFacts =
      typeof header === "string"
        ? { damage: header, newest: false }
        : {
            damage: headerDamage(segment),
            newest: false,
            sameLog: sameLogId((checked[0]?.header ?? header).logId, header.logId),
            chainedToPrevious: previous === undefined || header.previousFirstLsn === previous.firstLsn,
          };
    const found = classifyHeader(facts);
    if (found === undefined && typeof header !== "string") {
      checked.push({ ...segment, header });
      continue;
    }
    assert(found !== undefined, "a header that does not decode has a class");
    const action = actionOf(run, found);
    if (action !== "refuse") unsupported(found, action);
    throw corruption(headerRefusal(found, facts, segment, previous), segment.path, 0);
  }
  return checked;
}

/** Why a header is refused, in words. */
function headerRefusal(found: FindingClass, facts: HeaderFacts, segment: ListedSegment, previous?: CheckedSegment): string {
  if (found === "foreign-segment") return "segment belongs to another log";
  if (found === "missing-segment" && typeof segment.header !== "string") {
    const named = segment.header.previousFirstLsn;
    return `a segment is missing: ${segment.name} follows the segment starting at LSN ${named}, found ${previous?.name}`;
  }
  return facts.damage ?? found;
}

/**
 * Recovers segment after segment, following the LSN chain, up to the first place where the
 * rules stop it. Segments after a point-in-time cut are set aside.
 */
async function recoverChain(run: Recovery, segments: CheckedSegment[]): Promise<ChainEnd> {
  const { options, report } = run;
  let expected = (segments[0] as CheckedSegment).firstLsn;
  let tailPosition = SEGMENT_HEADER_BYTES;
  let cutAt = -1;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index] as CheckedSegment;
    const successor = segments[index + 1];
    if (expected !== segment.firstLsn) {
      const previous = segments[index - 1] as CheckedSegment;
      const gap: DamageReport = {
        file: previous.path,
        offset: tailPosition,
        reason: `LSN gap: ${previous.name} ends before LSN ${expected}, ${segment.name} starts at ${segment.firstLsn}`,
        fromLsn: expected,
      };
      const action = actionOf(run, "lsn-gap");
      if (action === "cut-here") {
        report.lostRange = gap;
        cutAt = index - 1;
        break;
      }
      if (action === "refuse") throw corruption(gap.reason, gap.file, gap.offset, expected);
      if (action !== "skip") unsupported("lsn-gap", action);
      report.skipped.push(gap);
      expected = segment.firstLsn;
    }
    // With `verifyOnOpen: tail` sealed segments are checked when read; point-in-time still
    // scans them all, to find the first damage wherever it is.
    if (successor !== undefined && options.verifyOnOpen === "tail" && options.recovery !== "point-in-time") {
      expected = successor.firstLsn;
      continue;
    }
    const end = await recoverSegment(run, segment, expected, successor?.firstLsn);
    expected = end.nextLsn;
    tailPosition = end.tailPosition;
    if (end.cut) {
      cutAt = index;
      break;
    }
  }
  for (const later of cutAt < 0 ? [] : segments.splice(cutAt + 1)) {
    if (run.writable) await setAside(run.fs, run.directory, later, report);
  }
  return { nextLsn: expected, tailPosition };
}

/** A finding the scan of a segment stopped at, with its class and the mode's action for it. */
interface Stop {
  found: Finding;
  kind: FindingClass;
  action: RecoveryAction;
}

/** Scans one segment and carries out the action for where it stops. */
async function recoverSegment(
  run: Recovery,
  segment: CheckedSegment,
  firstLsn: number,
  successorFirstLsn: number | undefined,
): Promise<ChainEnd & { cut: boolean }> {
  const { found, kind, action } = await scanToStop(run, segment, firstLsn, successorFirstLsn);
  const end = { nextLsn: found.lsn, tailPosition: found.offset, cut: false };
  switch (action) {
    case "accept":
      return end;
    case "refuse": {
      const reason = found.laterProvesDurable ? `${found.damage}, followed by valid records` : found.damage;
      throw corruption(reason, segment.path, found.offset, found.lsn);
    }
    case "cut-here":
      run.report.lostRange = { file: segment.path, offset: found.offset, reason: found.damage, fromLsn: found.lsn };
      if (run.writable) await clearTail(run.fs, run.directory, segment, found.offset, undefined);
      return { ...end, cut: true };
    case "cut-tail":
    case "append-after-tail": {
      run.report.tornTail = { file: segment.path, offset: found.offset, bytes: 0, reason: found.damage };
      // The deliberately broken variant: the torn bytes stay, and the next frame is written past them.
      if (
        action === "append-after-tail" &&
        found.offset + BROKEN_TAIL_SKIP_BYTES + FRAME_HEADER_BYTES < run.options.segmentBytes
      ) {
        return { ...end, tailPosition: found.offset + BROKEN_TAIL_SKIP_BYTES };
      }
      // Frames written before the torn one was durable follow it: the cut runs to the segment's end.
      const toEnd = found.later !== undefined && !found.laterProvesDurable;
      if (run.writable) run.report.tornTail = await clearTail(run.fs, run.directory, segment, found.offset, found.damage, toEnd);
      return end;
    }
    default:
      return unsupported(kind, action);
  }
}

/**
 * Scans a segment up to the first finding whose action is not to go on past it. What is
 * skipped (to the later frame) or passed over (past a frame no one needs) is reported on the way.
 */
async function scanToStop(
  run: Recovery,
  segment: CheckedSegment,
  firstLsn: number,
  successorFirstLsn: number | undefined,
): Promise<Stop> {
  const scan = await SegmentScan.open(run.fs, segment, firstLsn, successorFirstLsn, run.options.requiredFromLsn);
  try {
    for (;;) {
      const found = await scan.next();
      const kind = classifyFinding(found);
      const action = actionOf(run, kind);
      if (action !== "skip" && action !== "pass-over") return { found, kind, action };
      const resume = action === "skip" ? found.later : found.unneededUntil;
      if (resume === undefined) return unsupported(kind, action);
      const damage: DamageReport = { file: segment.path, offset: found.offset, reason: found.reason, fromLsn: found.lsn };
      run.report.skipped.push(action === "pass-over" ? { ...damage, untilLsn: resume.firstLsn } : damage);
      scan.resumeAt(resume.offset, resume.firstLsn);
    }
  } finally {
    run.report.scannedBytes += scan.scannedBytes;
    await scan.close();
  }
}

/**
 * Opens the active segment where the recovered records end, and makes what recovery read of it
 * durable before anything is appended after it (reassertDurable).
 */
async function openActive(
  run: Recovery,
  segments: CheckedSegment[],
  end: ChainEnd,
  spareOnDisk: boolean,
  startedMs: number,
): Promise<RecoveredLog> {
  const { fs, directory, options, report } = run;
  const logId = (segments[0] as CheckedSegment).header.logId;
  let tailPosition = end.tailPosition;
  const newest = segments[segments.length - 1] as CheckedSegment;
  // Damage skipped or passed over in the newest segment: new records go to a new segment, never after damaged bytes.
  if (!options.readOnly && report.skipped.some((damage) => damage.file === newest.path)) {
    segments.push(await startSegmentAfterDamage(fs, directory, options, logId, newest, end.nextLsn));
    tailPosition = SEGMENT_HEADER_BYTES;
  }
  report.segments = segments.length;
  report.lastLsn = end.nextLsn - 1;
  const active = segments[segments.length - 1] as CheckedSegment;
  const activeHandle = await fs.open(active.path, options.readOnly ? "read" : "write");
  if (!options.readOnly) {
    try {
      await reassertDurable(activeHandle, 0, tailPosition);
      // The same for names: a segment created by a process whose directory fsync never ran (it
      // failed first) is listed from the cache, and would vanish at a power cut with every
      // record acknowledged into it from now on.
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
    activeFrameSeed: active.header.frameSeed,
    tailPosition,
    nextLsn: end.nextLsn,
    spareOnDisk,
    report,
  };
}
