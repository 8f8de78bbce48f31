/**
 * Reads frames from one segment file through a reusable window buffer. Shared by open-time
 * recovery, `read`, `tail` and `verify`, so every path checks bytes the same way.
 */
import { LogbookError } from "../errors.js";
import type { FileHandle } from "../io/file-system.js";
import { frameIsOneBitFromValid } from "./bit-flip.js";
import { crc32Range } from "./checksum.js";
import { ALIGNMENT_BYTES, FRAME_HEADER_BYTES, FRAME_HEADER_CRC_OFFSET, FRAME_MAGIC } from "./format.js";
import { checkFrame, type FrameCheck, readFrameBytes, readFrameFirstLsn, readFrameUnsyncedBefore } from "./frame.js";

export const READ_CHUNK_BYTES = 1024 * 1024;

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
      );
      if (check.kind !== "short") return { ...check, bufferOffset };
      need = check.frameBytes;
    }
    return { kind: "damaged", reason: "frame could not be loaded whole", bufferOffset: 0 };
  }

  /**
   * Looks past damage at `offset` for a valid frame that starts at or after `expectedFirstLsn`.
   * Finding one proves the damage is not a torn tail: something written after it survived.
   */
  async findLaterFrame(offset: number, expectedFirstLsn: number): Promise<LaterFrame | undefined> {
    for (let candidate = offset + ALIGNMENT_BYTES; candidate + FRAME_HEADER_BYTES <= this.limit; candidate += ALIGNMENT_BYTES) {
      await this.load(candidate, FRAME_HEADER_BYTES);
      if (this.view.getUint32(candidate - this.windowStart, true) !== FRAME_MAGIC) continue;
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
    return undefined;
  }

  /** Whether the damaged frame at `offset` is one flipped bit away from a valid one (bit-flip.ts). */
  async isOneBitFromValid(offset: number, expectedFirstLsn: number): Promise<boolean> {
    await this.load(offset, FRAME_HEADER_BYTES);
    let local = offset - this.windowStart;
    if (local + FRAME_HEADER_BYTES > this.windowEnd - this.windowStart) return false;
    const headerChecks =
      this.view.getUint32(local + FRAME_HEADER_CRC_OFFSET, true) ===
      crc32Range(this.bytes, local, local + FRAME_HEADER_CRC_OFFSET);
    // Only a header that checks is trusted for the frame's size.
    const frameBytes = readFrameBytes(this.view, local);
    if (headerChecks && frameBytes > FRAME_HEADER_BYTES && offset + frameBytes <= this.limit) {
      await this.load(offset, frameBytes);
      local = offset - this.windowStart;
    }
    return frameIsOneBitFromValid(this.bytes, this.view, local, this.windowEnd - this.windowStart, expectedFirstLsn);
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
