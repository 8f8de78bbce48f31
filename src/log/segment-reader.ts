/**
 * Reads frames from one segment file through a reusable window buffer. Shared by open-time
 * recovery, `read`, `tail` and `verify`, so every path checks bytes the same way.
 */
import { LogbookError } from "../errors.js";
import type { FileHandle } from "../io/index.js";
import { frameIsOneBitFromValid } from "./bit-flip.js";
import {
  ALIGNMENT_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_HEADER_CRC_OFFSET,
  FRAME_MAGIC,
  RECORD_HEADER_BYTES,
  recordBytes,
  SEGMENT_HEADER_BYTES,
  TWO_POW_32,
} from "./format.js";
import {
  checkFrame,
  checkFrameHeader,
  type FrameCheck,
  frameHeaderCrc,
  readFrameBytes,
  readFrameFirstLsn,
  readFrameRecordCount,
  readFrameUnsyncedBefore,
} from "./frame.js";
import { checkRecord, readRecordLsn, readRecordPayloadBytes } from "./record.js";
import { decodeSegmentHeader } from "./segment-header.js";

export const READ_CHUNK_BYTES = 1024 * 1024;
/** FRAME_MAGIC as it lies on disk (little-endian). */
const FRAME_MAGIC_BYTES = (() => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(FRAME_MAGIC, 0);
  return bytes;
})();

/** Reads a segment's header for its frame seed; a header that does not check is LOGBOOK_CORRUPTION. */
export async function readFrameSeed(handle: FileHandle): Promise<number> {
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  let read: number;
  try {
    read = await handle.read(bytes, 0);
  } catch (error) {
    throw new LogbookError("LOGBOOK_IO", `reading the header of ${handle.path} failed`, {
      file: handle.path,
      offset: 0,
      cause: error,
    });
  }
  const header = decodeSegmentHeader(bytes.subarray(0, read));
  if (typeof header === "string") {
    throw new LogbookError("LOGBOOK_CORRUPTION", `${header} (${handle.path} at offset 0)`, { file: handle.path, offset: 0 });
  }
  return header.frameSeed;
}

/** A frame found after damage: its place, first LSN, and how many records before it were not durable when it was written. */
export interface LaterFrame {
  offset: number;
  firstLsn: number;
  unsyncedBefore: number;
}

/** A frame check, with where its bytes sit in `reader.bytes` when valid. */
export type LocatedFrameCheck = FrameCheck & { bufferOffset: number };

export class SegmentReader {
  bytes: Uint8Array;
  view: DataView;
  /** File offset of bytes[0]. */
  private windowStart = 0;
  /** File offset just past the last byte loaded. */
  private windowEnd = 0;
  /** The segment ends here: the file's size when it was opened, or the caller's bound. */
  limit: number;

  constructor(
    readonly handle: FileHandle,
    limit: number,
    /** The segment's frame seed (segment-header.ts): only frames written in this incarnation check. */
    readonly frameSeed: number,
    chunkBytes = READ_CHUNK_BYTES,
  ) {
    this.limit = limit;
    this.bytes = new Uint8Array(chunkBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  /** Forgets loaded bytes: the file may have changed under them (a tail that waits for new frames). */
  invalidate(limit: number): void {
    this.windowStart = 0;
    this.windowEnd = 0;
    this.limit = limit;
  }

  /** Checks the frame at file offset `offset`, which must start at `expectedFirstLsn`. */
  async checkAt(offset: number, expectedFirstLsn: number): Promise<LocatedFrameCheck> {
    let need = FRAME_HEADER_BYTES;
    for (let attempt = 0; attempt < 3; attempt++) {
      await this.load(offset, need);
      const bufferOffset = offset - this.windowStart;
      const check = checkFrame(
        this.bytes,
        this.view,
        bufferOffset,
        this.windowEnd - this.windowStart,
        this.limit - this.windowStart,
        expectedFirstLsn,
        this.frameSeed,
      );
      if (check.kind !== "short") return { ...check, bufferOffset };
      need = check.frameBytes;
    }
    return { kind: "damaged", reason: "frame could not be loaded whole", bufferOffset: 0 };
  }

  /**
   * Looks past `offset` (damage, zeros, or bytes that are not a frame of this segment) for a
   * frame of this segment that starts at or after `expectedFirstLsn`. Finding one proves that
   * something written after that place survived: it is not the end of the segment's data.
   */
  async findLaterFrame(offset: number, expectedFirstLsn: number): Promise<LaterFrame | undefined> {
    for (let from = offset + ALIGNMENT_BYTES; ; from += ALIGNMENT_BYTES) {
      const candidate = await this.nextMagic(from);
      if (candidate === undefined) return undefined;
      from = candidate;
      const check = await this.checkAt(candidate, expectedFirstLsn);
      // A frame header that checks and claims a later LSN is proof enough, even if its records
      // do not: it was written after the damaged place was. (A misdirected write can take the
      // records of the last frame and the previous frame with it: the simulator found that.)
      const later = check.kind === "damaged" && check.firstLsn !== undefined && check.firstLsn > expectedFirstLsn;
      if (check.kind === "valid" || later) {
        const local = candidate - this.windowStart;
        return {
          offset: candidate,
          firstLsn: readFrameFirstLsn(this.view, local),
          unsyncedBefore: readFrameUnsyncedBefore(this.view, local),
        };
      }
    }
  }

  /**
   * Where the damaged frame at `offset` (expected to start at `expectedFirstLsn`) ends, when it
   * is one flipped bit away from valid (written whole and damaged since, bit-flip.ts): past it
   * when its header checks (its checksum covers its size and record count), else at the next
   * frame of this segment, else at the segment's end when the next segment starts at
   * `nextSegmentFirstLsn`. Undefined for other damage: bytes that differ in more than one bit
   * may be a misdirected write, and then what they carried is missing from its own place.
   */
  async findFlippedFrameEnd(
    offset: number,
    expectedFirstLsn: number,
    nextSegmentFirstLsn?: number,
  ): Promise<Pick<LaterFrame, "offset" | "firstLsn"> | undefined> {
    if (!(await this.isOneBitFromValid(offset, expectedFirstLsn))) return undefined;
    await this.load(offset, FRAME_HEADER_BYTES);
    const local = offset - this.windowStart;
    if (
      local + FRAME_HEADER_BYTES <= this.windowEnd - this.windowStart &&
      checkFrameHeader(this.bytes, this.view, local, this.frameSeed) === undefined &&
      readFrameFirstLsn(this.view, local) === expectedFirstLsn &&
      offset + readFrameBytes(this.view, local) <= this.limit
    ) {
      return {
        offset: offset + readFrameBytes(this.view, local),
        firstLsn: expectedFirstLsn + readFrameRecordCount(this.view, local),
      };
    }
    const later = await this.findLaterFrame(offset, expectedFirstLsn);
    if (later !== undefined) return later;
    return nextSegmentFirstLsn === undefined ? undefined : { offset: this.limit, firstLsn: nextSegmentFirstLsn };
  }

  /**
   * The first aligned offset at or after `from` (aligned) where the frame magic starts and a
   * whole frame header fits in the segment. Searches each loaded window natively
   * (Buffer.indexOf): every open scans the rest of the newest segment this way.
   */
  private async nextMagic(from: number): Promise<number | undefined> {
    let candidate = from;
    while (candidate + FRAME_HEADER_BYTES <= this.limit) {
      await this.load(candidate, FRAME_HEADER_BYTES);
      const windowBytes = this.windowEnd - this.windowStart;
      const haystack = Buffer.from(this.bytes.buffer, this.bytes.byteOffset, windowBytes);
      let local = candidate - this.windowStart;
      for (;;) {
        const at = haystack.indexOf(FRAME_MAGIC_BYTES, local);
        if (at < 0 || at + FRAME_HEADER_BYTES > windowBytes) break;
        if ((this.windowStart + at) % ALIGNMENT_BYTES === 0) return this.windowStart + at;
        local = at + 1;
      }
      // Go on from the last aligned place whose header did not fit in this window.
      const next = this.windowStart + Math.max(windowBytes - FRAME_HEADER_BYTES + 1, 0);
      const aligned = Math.ceil(next / ALIGNMENT_BYTES) * ALIGNMENT_BYTES;
      if (aligned <= candidate) break;
      candidate = aligned;
    }
    return undefined;
  }

  /**
   * The offset of the first trace at or after `offset` of a segment whose header cannot be
   * trusted for its frame seed: a record whose checksum holds, or a frame header with the frame
   * magic, an aligned size and at least one record, either for an LSN of at least `minLsn` (and
   * within 2^32 of it). Records are not bound to their segment, but LSNs only grow, so a
   * recycled file's earlier records and frames carry lower LSNs.
   */
  async findOwnTraceFrom(offset: number, minLsn: number): Promise<number | undefined> {
    const inRange = (lsn: number) => lsn >= minLsn && lsn - minLsn <= TWO_POW_32;
    for (let candidate = offset; candidate + RECORD_HEADER_BYTES <= this.limit; candidate += ALIGNMENT_BYTES) {
      await this.load(candidate, FRAME_HEADER_BYTES);
      let local = candidate - this.windowStart;
      if (
        candidate + FRAME_HEADER_BYTES <= this.windowEnd &&
        this.view.getUint32(local, true) === FRAME_MAGIC &&
        readFrameBytes(this.view, local) % ALIGNMENT_BYTES === 0 &&
        readFrameRecordCount(this.view, local) >= 1 &&
        inRange(readFrameFirstLsn(this.view, local))
      ) {
        return candidate;
      }
      const lsn = readRecordLsn(this.view, local);
      if (!inRange(lsn)) continue;
      const size = recordBytes(readRecordPayloadBytes(this.view, local));
      if (size > this.limit - candidate) continue;
      await this.load(candidate, size);
      local = candidate - this.windowStart;
      if (typeof checkRecord(this.bytes, this.view, local, this.windowEnd - this.windowStart, lsn) === "number") return candidate;
    }
    return undefined;
  }

  /** Whether the damaged frame at `offset` is one flipped bit away from a valid one (bit-flip.ts). */
  async isOneBitFromValid(offset: number, expectedFirstLsn: number): Promise<boolean> {
    await this.load(offset, FRAME_HEADER_BYTES);
    let local = offset - this.windowStart;
    if (local + FRAME_HEADER_BYTES > this.windowEnd - this.windowStart) return false;
    const headerChecks =
      this.view.getUint32(local + FRAME_HEADER_CRC_OFFSET, true) === frameHeaderCrc(this.bytes, local, this.frameSeed);
    // Only a header that checks is trusted for the frame's size.
    const frameBytes = readFrameBytes(this.view, local);
    if (headerChecks && frameBytes > FRAME_HEADER_BYTES && offset + frameBytes <= this.limit) {
      await this.load(offset, frameBytes);
      local = offset - this.windowStart;
    }
    return frameIsOneBitFromValid(
      this.bytes,
      this.view,
      local,
      this.windowEnd - this.windowStart,
      expectedFirstLsn,
      this.frameSeed,
    );
  }

  /** Ensures bytes [offset, offset + need) are loaded, as far as the segment has them. */
  private async load(offset: number, need: number): Promise<void> {
    const wantEnd = Math.min(offset + need, this.limit);
    if (offset >= this.windowStart && wantEnd <= this.windowEnd) return;
    if (need > this.bytes.byteLength) {
      this.bytes = new Uint8Array(need);
      this.view = new DataView(this.bytes.buffer);
    }
    const length = Math.min(this.bytes.byteLength, Math.max(0, this.limit - offset));
    let read: number;
    try {
      read = await this.handle.read(this.bytes.subarray(0, length), offset);
    } catch (error) {
      throw new LogbookError("LOGBOOK_IO", `reading ${this.handle.path} at ${offset} failed`, {
        file: this.handle.path,
        offset,
        cause: error,
      });
    }
    this.windowStart = offset;
    this.windowEnd = offset + read;
    // A file shorter than its expected size ends where its bytes end.
    if (read < length) this.limit = this.windowEnd;
  }
}
