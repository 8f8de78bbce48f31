/**
 * Reading the log in LSN order: `read` up to what is committed now, `tail` following new
 * commits. Every frame is checked before any of its records is returned; damage is never
 * returned as data (LOGBOOK_CORRUPTION), except in salvage mode, where damaged frames are
 * skipped and reported.
 */
import { asDiskError, errnoCode, LogbookError } from "../errors.js";
import type { FileHandle, FileSystem } from "../io/index.js";
import type { LogRecord, RecordVisitor } from "./contract.js";
import { SEGMENT_HEADER_BYTES } from "./format.js";
import { forEachRecord } from "./frame.js";
import type { DamageReport } from "./recovery.js";
import { readFrameSeed, SegmentReader } from "./segment-reader.js";
import type { SegmentInfo } from "./segments.js";

export type { LogRecord };

/** What a reader needs of its log; the Log implements it. */
export interface ReadSource {
  readonly fs: FileSystem;
  readonly salvage: boolean;
  /** Records below it are not needed (LogOptions.requiredFromLsn): a flipped bit wholly below it and the read's start is read around. */
  readonly requiredFromLsn: number;
  segments(): readonly SegmentInfo[];
  /** Records up to this LSN are acknowledged and may be returned. */
  committedLsn(): number;
  /** Resolves at the next commit, close or failure. */
  nextChange(): Promise<void>;
  /** Set once the log is closed: a tail ends. */
  isClosed(): boolean;
  /** Set once the log has failed: a tail waiting for more throws it. */
  failure(): LogbookError | undefined;
  onSkipped(damage: DamageReport): void;
}

export interface ReadOptions {
  /** First LSN to return (default: the oldest the log still has). */
  from?: number;
  signal?: AbortSignal;
}

export interface ReadBatchesOptions extends ReadOptions {
  /** Once every committed record was returned, wait for new commits (as `tail`) until `signal` aborts or the log closes. */
  follow?: boolean;
  /**
   * false: payloads are views into a reused buffer, valid only until the next batch is
   * requested (no copy: for consumers that decode at once, such as replay). Default true.
   */
  copyPayloads?: boolean;
}

function aborted(signal: AbortSignal): LogbookError {
  return new LogbookError("LOGBOOK_ABORTED", "reading was aborted", { cause: signal.reason });
}

function segmentIndexFor(segments: readonly SegmentInfo[], lsn: number): number {
  let index = 0;
  while (index + 1 < segments.length && (segments[index + 1]?.firstLsn ?? Number.POSITIVE_INFINITY) <= lsn) index++;
  return index;
}

/**
 * Yields the records of every valid frame from `from`, frame by frame, as long as `follow`
 * says to keep waiting for more. Payloads are copies: the window buffer is reused.
 */
export async function* readFrames(
  source: ReadSource,
  from: number | undefined,
  follow: boolean,
  signal: AbortSignal | undefined,
  copyPayloads = true,
  visit?: RecordVisitor,
): AsyncGenerator<LogRecord[]> {
  const first = source.segments()[0]?.firstLsn ?? 1;
  let lsn = from ?? first;
  if (!Number.isSafeInteger(lsn) || lsn < 0) {
    throw new LogbookError("LOGBOOK_INVALID_LSN", `from must be a non-negative integer LSN, got ${String(from)}`);
  }
  if (lsn === 0) lsn = first;
  if (lsn < first) {
    throw new LogbookError("LOGBOOK_TRUNCATED", `LSN ${lsn} was truncated; the log starts at ${first}`, { lsn });
  }
  let handle: FileHandle | undefined;
  try {
    for (;;) {
      const segments = source.segments();
      const index = segmentIndexFor(segments, lsn);
      const segment = segments[index];
      if (segment === undefined || segment.firstLsn > lsn) {
        throw new LogbookError("LOGBOOK_TRUNCATED", `LSN ${lsn} is no longer in the log`, { lsn });
      }
      let sizeBytes: number;
      try {
        handle = await source.fs.open(segment.path, "read");
        sizeBytes = await handle.sizeBytes();
      } catch (error) {
        // Freed by a truncation since the list was taken: what it held is no longer in the log.
        if (errnoCode(error) === "ENOENT") {
          throw new LogbookError("LOGBOOK_TRUNCATED", `LSN ${lsn} is no longer in the log`, { lsn, cause: error });
        }
        throw asDiskError(error, `cannot read ${segment.path}`, { file: segment.path });
      }
      const reader = new SegmentReader(handle, sizeBytes, await readFrameSeed(handle));
      let position = SEGMENT_HEADER_BYTES;
      let expected = segment.firstLsn;
      let retriedEnd = false;
      for (;;) {
        if (signal?.aborted) throw aborted(signal);
        const committed = source.committedLsn();
        if (expected > committed) {
          if (!follow) return;
          const failure = source.failure();
          if (failure !== undefined) throw failure;
          if (source.isClosed()) return;
          await waitForChange(source, signal);
          if (source.committedLsn() >= expected) reader.invalidate(await handle.sizeBytes());
          continue;
        }
        const check = await reader.checkAt(position, expected);
        if (check.kind === "valid") {
          const records: LogRecord[] = [];
          const bytes = reader.bytes;
          let last = 0;
          forEachRecord(reader.view, check.bufferOffset, check.recordCount, (recordLsn, start, end) => {
            if (recordLsn >= lsn && recordLsn <= committed) {
              last = recordLsn;
              if (visit !== undefined) visit(recordLsn, bytes, start, end);
              else records.push({ lsn: recordLsn, payload: copyPayloads ? bytes.slice(start, end) : bytes.subarray(start, end) });
            }
          });
          position += check.frameBytes;
          expected += check.recordCount;
          retriedEnd = false;
          if (last !== 0) {
            lsn = last + 1;
            yield records;
          }
          continue;
        }
        const next = source.segments()[segmentIndexFor(source.segments(), segment.firstLsn) + 1];
        // The next segment starts exactly where this one's frames end: whatever follows them here
        // (zeros, stale frames, garbage) is not part of the log.
        if (next !== undefined && next.firstLsn === expected) break;
        if (!source.segments().some((s) => s.path === segment.path && s.firstLsn === segment.firstLsn)) {
          throw new LogbookError("LOGBOOK_TRUNCATED", `LSN ${expected} was truncated while being read`, { lsn: expected });
        }
        if ((check.kind === "end" || check.kind === "stale" || check.kind === "foreign") && !retriedEnd) {
          // Bytes loaded before the frame was written: load again once.
          retriedEnd = true;
          reader.invalidate(await handle.sizeBytes());
          continue;
        }
        const reason = check.kind === "damaged" || check.kind === "foreign" ? check.reason : `record ${expected} is missing`;
        // A flipped bit in a frame whose every record lies below both the read's start and what
        // the log's owner needs: none of them would be returned. Reported, and read around.
        const needed = Math.min(lsn, source.requiredFromLsn);
        const passed = expected < needed ? await reader.findFlippedFrameEnd(position, expected, next?.firstLsn) : undefined;
        if (passed !== undefined && expected < passed.firstLsn && passed.firstLsn <= needed) {
          source.onSkipped({ file: segment.path, offset: position, reason, fromLsn: expected, untilLsn: passed.firstLsn });
          position = passed.offset;
          expected = passed.firstLsn;
          continue;
        }
        if (source.salvage) {
          const later = await reader.findLaterFrame(position, expected);
          source.onSkipped({ file: segment.path, offset: position, reason, fromLsn: expected });
          if (later === undefined) break;
          position = later.offset;
          expected = later.firstLsn;
          lsn = Math.max(lsn, expected);
          continue;
        }
        throw new LogbookError("LOGBOOK_CORRUPTION", `${reason} (${segment.path} at offset ${position})`, {
          file: segment.path,
          offset: position,
          lsn: expected,
        });
      }
      await handle.close();
      handle = undefined;
      const after = source.segments()[segmentIndexFor(source.segments(), segment.firstLsn) + 1];
      if (after === undefined) return;
      lsn = Math.max(lsn, after.firstLsn);
    }
  } finally {
    await handle?.close();
  }
}

async function waitForChange(source: ReadSource, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return source.nextChange();
  if (signal.aborted) throw aborted(signal);
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      source.nextChange(),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(aborted(signal));
        signal.addEventListener("abort", onAbort, { once: true });
      }),
    ]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener("abort", onAbort);
  }
}
