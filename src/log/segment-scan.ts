/**
 * What open-time recovery reads: the segment files and their headers, and each segment's frames
 * one after the other up to the first place that is not a valid frame, with the facts that
 * recovery-rules.ts classifies it by. Reading only: nothing here changes the disk.
 */
import { join } from "node:path";
import type { FileHandle, FileSystem } from "../io/index.js";
import { SEGMENT_HEADER_BYTES } from "./format.js";
import type { FrameFacts } from "./recovery-rules.js";
import { type DecodedSegmentHeader, decodeSegmentHeader, parseSegmentName } from "./segment-header.js";
import { type LaterFrame, type LocatedFrameCheck, SegmentReader } from "./segment-reader.js";
import type { SegmentInfo } from "./segments.js";

export interface ListedSegment extends SegmentInfo {
  /** The decoded header, or why it does not decode. */
  header: DecodedSegmentHeader | string;
  sizeBytes: number;
}

/** A segment whose header was checked: valid, of this log, named after its first LSN, chained to its predecessor. */
export interface CheckedSegment extends ListedSegment {
  header: DecodedSegmentHeader;
}

/** The segment files of `names`, oldest first, with their headers. */
export async function listSegments(fs: FileSystem, directory: string, names: string[]): Promise<ListedSegment[]> {
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

/**
 * Why a segment's header cannot be used, if so: it does not decode, or it names another first
 * LSN than the file (a recycled spare renamed into place still carries its old header until the
 * new one is durable).
 */
export function headerDamage(segment: ListedSegment): string | undefined {
  const header = segment.header;
  if (typeof header === "string") return header;
  if (header.firstLsn !== segment.firstLsn) {
    return `segment header says first LSN ${header.firstLsn}, its name says ${segment.firstLsn}`;
  }
  return undefined;
}

/**
 * Whether a segment whose header cannot be trusted holds anything of its own. Without a header
 * there is no frame seed to check frames by: records are looked for instead, whose LSNs tell
 * this segment's own (at least its name's first LSN) from a recycled file's. From offset 0 on,
 * not only after the header: a misdirected write over sector 0 leaves records where it was.
 */
export async function holdsOwnRecords(fs: FileSystem, segment: ListedSegment): Promise<boolean> {
  const handle = await fs.open(segment.path, "read");
  try {
    const reader = new SegmentReader(handle, segment.sizeBytes, 0);
    return (await reader.findOwnTraceFrom(0, segment.firstLsn)) !== undefined;
  } finally {
    await handle.close();
  }
}

/** The first place of a segment that is not a valid frame: X (`offset`), E (`lsn`), and what is there. */
export interface Finding extends FrameFacts {
  offset: number;
  lsn: number;
  /** What is wrong at X, in words. */
  reason: string;
  /** `reason`, saying also when later frames were written before X was durable: what a cut or refusal reports. */
  damage: string;
}

/** Scans one segment's frames from its header on; `resumeAt` goes on after a finding recovery skips. */
export class SegmentScan {
  /** Bytes of valid frames scanned. */
  scannedBytes = 0;

  private constructor(
    private readonly handle: FileHandle,
    private readonly reader: SegmentReader,
    private position: number,
    private expected: number,
    /** The next segment's first LSN; undefined for the newest segment. */
    private readonly successorFirstLsn: number | undefined,
    private readonly requiredFromLsn: number,
  ) {}

  static async open(
    fs: FileSystem,
    segment: CheckedSegment,
    firstLsn: number,
    successorFirstLsn: number | undefined,
    requiredFromLsn: number,
  ): Promise<SegmentScan> {
    const handle = await fs.open(segment.path, "read");
    const reader = new SegmentReader(handle, segment.sizeBytes, segment.header.frameSeed);
    return new SegmentScan(handle, reader, SEGMENT_HEADER_BYTES, firstLsn, successorFirstLsn, requiredFromLsn);
  }

  /** Takes valid frames up to the first place that is not one, and tells what is there. */
  async next(): Promise<Finding> {
    for (;;) {
      const check = await this.reader.checkAt(this.position, this.expected);
      if (check.kind !== "valid") return this.inspect(check);
      this.position += check.frameBytes;
      this.expected += check.recordCount;
      this.scannedBytes += check.frameBytes;
    }
  }

  resumeAt(offset: number, lsn: number): void {
    this.position = offset;
    this.expected = lsn;
  }

  close(): Promise<void> {
    return this.handle.close();
  }

  /**
   * Gathers the facts at X. Each costs reads, and one that cannot change the class is not looked
   * for: nothing more at the end of the data, no durability proof for a frame no one needs.
   */
  private async inspect(check: LocatedFrameCheck): Promise<Finding> {
    const { reader, position, expected } = this;
    // Zeros, or bytes that are not a frame of this segment (a recycled file's old frames, the
    // middle of one, a torn header): the end of the data, unless a frame of this segment
    // follows. A header one bit away from checking is a damaged frame, not the end.
    const notAFrame = check.kind === "end" || check.kind === "stale" || check.kind === "foreign";
    const oneBitFromValid =
      (check.kind === "damaged" || check.kind === "foreign") && (await reader.isOneBitFromValid(position, expected));
    const later = await reader.findLaterFrame(position, expected);
    const found = check.kind === "damaged" || check.kind === "foreign" ? check.reason : "no frame";
    const damaged =
      notAFrame && !oneBitFromValid ? `${found} where LSN ${expected} was expected, but frames of this segment follow` : found;
    const reason = oneBitFromValid ? `${damaged}, one bit away from a valid frame (damaged after it was written)` : damaged;
    const facts = {
      offset: position,
      lsn: expected,
      reason,
      notAFrame,
      oneBitFromValid,
      later,
      newest: this.successorFirstLsn === undefined,
      chainedToNext: this.successorFirstLsn === expected,
    };
    if (notAFrame && !oneBitFromValid && later === undefined) {
      return { ...facts, damage: reason, laterProvesDurable: false, unneededUntil: undefined };
    }
    const unneededUntil = await this.unneededFrameEnd();
    const laterProvesDurable =
      later !== undefined && unneededUntil === undefined && (await provenDurable(reader, later, expected));
    const tornUnderLater = later !== undefined && !laterProvesDurable;
    const damage = tornUnderLater ? `${reason}; later frames were written before it was durable` : reason;
    return { ...facts, damage, laterProvesDurable, unneededUntil };
  }

  /**
   * Where a damaged frame one flipped bit from valid ends, when every record it held lies below
   * `requiredFromLsn` (other damage there is refused: segment-reader.ts, findFlippedFrameEnd).
   */
  private async unneededFrameEnd(): Promise<Pick<LaterFrame, "offset" | "firstLsn"> | undefined> {
    const { position, expected, requiredFromLsn } = this;
    if (expected >= requiredFromLsn) return undefined;
    const end = await this.reader.findFlippedFrameEnd(position, expected, this.successorFirstLsn);
    return end !== undefined && expected < end.firstLsn && end.firstLsn <= requiredFromLsn ? end : undefined;
  }
}

/**
 * Whether `first` or any later frame of the segment was written when LSN `lsn` was already
 * durable. Under sync `interval` or `none` a later frame may have been written while earlier
 * records were not durable yet, and a power cut then tears those and keeps it (frame.ts, byte
 * 20); a power cut cannot lose what was durable when a surviving frame was written.
 */
async function provenDurable(reader: SegmentReader, first: LaterFrame, lsn: number): Promise<boolean> {
  for (let later: LaterFrame | undefined = first; later !== undefined; later = await reader.findLaterFrame(later.offset, lsn)) {
    if (lsn < later.firstLsn - later.unsyncedBefore) return true;
  }
  return false;
}
