/**
 * Frame codec (docs/format.md, "Frame"). One frame is one group commit: a 32-byte header
 * followed by its records. A frame is valid only when its header checks and every record it
 * counts checks, in LSN order, filling it exactly; so a frame is all-or-nothing after a
 * crash, which is what makes `appendBatch` atomic and what proves a torn tail.
 *
 *   0  u32 magic "LBFR"
 *   4  u32 frame bytes (header and records, a multiple of 8)
 *   8  u64 first LSN (two u32 halves, low first)
 *  16  u32 record count (at least 1)
 *  20  u32 records before this frame that were written but not yet durable when it was
 *      written (0 under sync `always`; up to 2^32-1): how far back a power cut may have torn
 *  24  u32 CRC-32 of the records (bytes 32..frame bytes), or 0 when not recorded (logs written
 *      before it was, or records whose CRC happens to be 0): lets a whole frame be checked with
 *      one pass over its bytes instead of one per record
 *  28  u32 CRC-32 of bytes 0..28, started from the segment's frame seed (segment-header.ts): the
 *      CRC of the segment header's bytes 0..60 followed by these 28 bytes. A frame therefore
 *      checks only in the segment incarnation that wrote it: frames left in a recycled file, or
 *      past a recovered end, are not frames of the segment as it is now.
 */
import { assert } from "../assert.js";
import { crc32Range, crc32Update } from "./checksum.js";
import {
  ALIGNMENT_BYTES,
  FRAME_HEADER_BYTES,
  FRAME_HEADER_CRC_OFFSET,
  FRAME_MAGIC,
  RECORD_HEADER_BYTES,
  recordBytes,
  TWO_POW_32,
} from "./format.js";
import { checkRecord, RecordDamage, readRecordLsn, readRecordPayloadBytes } from "./record.js";

const OFFSET_MAGIC = 0;
const OFFSET_FRAME_BYTES = 4;
const OFFSET_FIRST_LSN_LOW = 8;
const OFFSET_FIRST_LSN_HIGH = 12;
const OFFSET_RECORD_COUNT = 16;
const OFFSET_UNSYNCED_BEFORE = 20;
const OFFSET_RECORDS_CRC = 24;

export function encodeFrameHeader(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  frameBytes: number,
  firstLsn: number,
  recordCount: number,
  unsyncedBefore: number,
  recordsCrc: number,
  frameSeed: number,
): void {
  assert(frameBytes % ALIGNMENT_BYTES === 0, "frame size is aligned");
  assert(recordCount >= 1, "a frame holds at least one record");
  assert(frameBytes >= FRAME_HEADER_BYTES + recordCount * RECORD_HEADER_BYTES, "frame holds its records");
  view.setUint32(offset + OFFSET_MAGIC, FRAME_MAGIC, true);
  view.setUint32(offset + OFFSET_FRAME_BYTES, frameBytes, true);
  view.setUint32(offset + OFFSET_FIRST_LSN_LOW, firstLsn % TWO_POW_32, true);
  view.setUint32(offset + OFFSET_FIRST_LSN_HIGH, Math.floor(firstLsn / TWO_POW_32), true);
  view.setUint32(offset + OFFSET_RECORD_COUNT, recordCount, true);
  view.setUint32(offset + OFFSET_UNSYNCED_BEFORE, Math.min(unsyncedBefore, 0xffffffff), true);
  view.setUint32(offset + OFFSET_RECORDS_CRC, recordsCrc, true);
  view.setUint32(offset + FRAME_HEADER_CRC_OFFSET, frameHeaderCrc(bytes, offset, frameSeed), true);
}

/** The CRC a frame header at `offset` must carry in a segment with `frameSeed`. */
export function frameHeaderCrc(bytes: Uint8Array, offset: number, frameSeed: number): number {
  return crc32Update(frameSeed, bytes, offset, offset + FRAME_HEADER_CRC_OFFSET);
}

/**
 * The CRC-32 of a frame's records (frame header field 24), given as the pieces they are written
 * from: pieces[from], pieces[from + 1], …
 */
export function recordsChecksum(pieces: readonly Uint8Array[], from = 0): number {
  let crc = 0;
  for (let i = from; i < pieces.length; i++) {
    const piece = pieces[i] as Uint8Array;
    crc = crc32Update(crc, piece, 0, piece.byteLength);
  }
  return crc;
}

const BYTES_AFTER_LAST_RECORD = "frame has bytes after its last record";

export type FrameCheck =
  /** A whole, valid frame with the expected first LSN. */
  | { kind: "valid"; frameBytes: number; firstLsn: number; recordCount: number }
  /** Zeros where a header would be: the end of the written part of a segment, unless frames of it follow. */
  | { kind: "end" }
  /** A header of this segment for an earlier LSN than expected: not a frame of the log here. */
  | { kind: "stale"; frameBytes: number; firstLsn: number }
  /**
   * Bytes that are not a frame header of this segment (another incarnation's frames, the middle
   * of an old frame, garbage): like zeros, the end unless frames of this segment follow.
   */
  | { kind: "foreign"; reason: string }
  /** The buffer holds a valid header but not yet the whole frame: read `frameBytes` and check again. */
  | { kind: "short"; frameBytes: number }
  /** Not a valid frame where one was expected. */
  | { kind: "damaged"; reason: string; frameBytes?: number; firstLsn?: number; recordOffset?: number };

function isZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

export const FRAME_MAGIC_MISSING = "frame magic missing";
export const FRAME_HEADER_CHECKSUM_MISMATCH = "frame header checksum mismatch";

/** Checks a frame header alone; `undefined` when it is a valid header of the segment with `frameSeed`. */
export function checkFrameHeader(bytes: Uint8Array, view: DataView, offset: number, frameSeed: number): string | undefined {
  if (view.getUint32(offset + OFFSET_MAGIC, true) !== FRAME_MAGIC) return FRAME_MAGIC_MISSING;
  const stored = view.getUint32(offset + FRAME_HEADER_CRC_OFFSET, true);
  if (stored !== frameHeaderCrc(bytes, offset, frameSeed)) return FRAME_HEADER_CHECKSUM_MISMATCH;
  const frameBytes = view.getUint32(offset + OFFSET_FRAME_BYTES, true);
  const recordCount = view.getUint32(offset + OFFSET_RECORD_COUNT, true);
  if (frameBytes % ALIGNMENT_BYTES !== 0) return "frame size is not aligned";
  if (recordCount < 1) return "frame holds no record";
  if (frameBytes < FRAME_HEADER_BYTES + recordCount * RECORD_HEADER_BYTES) return "frame is too small for its records";
  return undefined;
}

export function readFrameBytes(view: DataView, offset: number): number {
  return view.getUint32(offset + OFFSET_FRAME_BYTES, true);
}

export function readFrameFirstLsn(view: DataView, offset: number): number {
  return view.getUint32(offset + OFFSET_FIRST_LSN_HIGH, true) * TWO_POW_32 + view.getUint32(offset + OFFSET_FIRST_LSN_LOW, true);
}

/** Records before the frame that were not durable yet when it was written (format: byte 20). */
export function readFrameUnsyncedBefore(view: DataView, offset: number): number {
  return view.getUint32(offset + OFFSET_UNSYNCED_BEFORE, true);
}

export function readFrameRecordCount(view: DataView, offset: number): number {
  return view.getUint32(offset + OFFSET_RECORD_COUNT, true);
}

/**
 * Checks the frame at `offset`. `available` is where the bytes read so far end, `limit`
 * where the segment ends (a frame never crosses it). Never throws on bad bytes.
 */
export function checkFrame(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  available: number,
  limit: number,
  expectedFirstLsn: number,
  frameSeed: number,
): FrameCheck {
  if (offset + FRAME_HEADER_BYTES > limit) return { kind: "end" };
  if (offset + FRAME_HEADER_BYTES > available) return { kind: "short", frameBytes: FRAME_HEADER_BYTES };
  if (isZero(bytes, offset, offset + FRAME_HEADER_BYTES)) return { kind: "end" };
  const headerDamage = checkFrameHeader(bytes, view, offset, frameSeed);
  // A header whose checksum fails but that carries the magic and the expected LSN is this
  // segment's own, torn or damaged: an earlier incarnation's frames all carry lower LSNs.
  const ownLsn = headerDamage === FRAME_HEADER_CHECKSUM_MISMATCH && readFrameFirstLsn(view, offset) === expectedFirstLsn;
  if ((headerDamage === FRAME_MAGIC_MISSING || headerDamage === FRAME_HEADER_CHECKSUM_MISMATCH) && !ownLsn) {
    return { kind: "foreign", reason: headerDamage };
  }
  if (headerDamage !== undefined) return { kind: "damaged", reason: headerDamage };
  const frameBytes = readFrameBytes(view, offset);
  const firstLsn = readFrameFirstLsn(view, offset);
  if (firstLsn < expectedFirstLsn) return { kind: "stale", frameBytes, firstLsn };
  if (firstLsn > expectedFirstLsn) {
    return { kind: "damaged", reason: `frame starts at LSN ${firstLsn}, expected ${expectedFirstLsn}`, frameBytes, firstLsn };
  }
  if (offset + frameBytes > limit)
    return { kind: "damaged", reason: "frame runs past the end of its segment", frameBytes, firstLsn };
  if (offset + frameBytes > available) return { kind: "short", frameBytes };
  const recordCount = readFrameRecordCount(view, offset);
  const end = offset + frameBytes;
  const recordsCrc = view.getUint32(offset + OFFSET_RECORDS_CRC, true);
  if (recordsCrc !== 0 && recordsCrc === crc32Range(bytes, offset + FRAME_HEADER_BYTES, end)) {
    // Every record byte is as written, its own CRC and padding included: what is left to check
    // is that the records fill the frame in LSN order (a writer's bug, not damage, if not).
    const walked = walkRecords(view, offset, end, recordCount, firstLsn);
    if (walked !== undefined) return { kind: "damaged", reason: walked, frameBytes, firstLsn };
    return { kind: "valid", frameBytes, firstLsn, recordCount };
  }
  // Without the frame's CRC, or with damage somewhere: record by record, to find where.
  let cursor = offset + FRAME_HEADER_BYTES;
  for (let i = 0; i < recordCount; i++) {
    const size: number | RecordDamage = checkRecord(bytes, view, cursor, end, firstLsn + i);
    if (typeof size === "string") return { kind: "damaged", reason: size, frameBytes, firstLsn, recordOffset: cursor };
    cursor += size;
  }
  if (cursor !== end) return { kind: "damaged", reason: BYTES_AFTER_LAST_RECORD, frameBytes, firstLsn };
  // Every record checked on its own: the records' CRCs decide, the frame's only speeds that up.
  return { kind: "valid", frameBytes, firstLsn, recordCount };
}

/** The structure of records whose bytes are known intact: sizes within the frame, LSNs in sequence. */
function walkRecords(view: DataView, offset: number, end: number, recordCount: number, firstLsn: number): string | undefined {
  let cursor = offset + FRAME_HEADER_BYTES;
  for (let i = 0; i < recordCount; i++) {
    if (cursor + RECORD_HEADER_BYTES > end) return RecordDamage.truncated;
    const size = recordBytes(readRecordPayloadBytes(view, cursor));
    if (size > end - cursor) return RecordDamage.truncated;
    if (readRecordLsn(view, cursor) !== firstLsn + i) return RecordDamage.lsn;
    cursor += size;
  }
  return cursor === end ? undefined : BYTES_AFTER_LAST_RECORD;
}

/** Calls `visit` with each record's LSN and payload bounds; the frame must have checked valid. */
export function forEachRecord(
  view: DataView,
  offset: number,
  recordCount: number,
  visit: (lsn: number, payloadStart: number, payloadEnd: number) => void,
): void {
  let cursor = offset + FRAME_HEADER_BYTES;
  for (let i = 0; i < recordCount; i++) {
    const payloadBytes = readRecordPayloadBytes(view, cursor);
    const payloadStart = cursor + RECORD_HEADER_BYTES;
    visit(readRecordLsn(view, cursor), payloadStart, payloadStart + payloadBytes);
    cursor += recordBytes(payloadBytes);
  }
}
