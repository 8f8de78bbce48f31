/**
 * Telling a flipped bit from a torn write, for the last frame of the log, where no later
 * frame can prove that it was once whole.
 *
 * A write that a power cut interrupts loses whole sectors: what is left differs from what was
 * meant in hundreds of bytes at a time. Decaying media, a bad cable or a firmware bug changes
 * bytes the disk had already made durable, typically one bit. So a damaged last frame that is
 * exactly one bit away from one that checks was written whole and then damaged: its records
 * may have been acknowledged, and cutting it as a torn tail would lose them in silence.
 *
 * One bit away is cheap to recognise with the CRC's linearity. For two inputs of one length,
 * crc(a) ^ crc(b) depends only on a ^ b (the "syndrome"), and the syndrome of one flipped bit
 * at byte j, bit k, is the CRC register after the byte (1 << k) followed by (end - 1 - j) zero
 * bytes. Walking from the end, the eight registers of a byte are stepped once per byte: O(n).
 * A random syndrome matches one of n·8 positions with odds n·8 / 2^32, so garbage left by a
 * torn write is not mistaken for a flip.
 */
import { CRC_BYTE_TABLE, crc32Range, crc32Update } from "./checksum.js";
import {
  FRAME_HEADER_BYTES,
  FRAME_HEADER_CRC_OFFSET,
  RECORD_CRC_COVERAGE_START,
  RECORD_HEADER_BYTES,
  recordBytes,
} from "./format.js";
import { checkRecord, RecordDamage } from "./record.js";

const T = CRC_BYTE_TABLE;

/**
 * Whether bytes[start, end) are exactly one bit away from bytes whose CRC-32 (started from
 * `seed`, see crc32Update) is `stored`. The seed does not change the syndromes: for inputs of
 * one length the CRC is affine, so crc(a) ^ crc(b) depends only on a ^ b whatever the start.
 */
export function oneBitFromChecksum(bytes: Uint8Array, start: number, end: number, stored: number, seed = 0): boolean {
  const syndrome = (stored ^ crc32Update(seed, bytes, start, end)) >>> 0;
  if (syndrome === 0) return false;
  // A flip in the stored checksum itself.
  if ((syndrome & (syndrome - 1)) === 0) return true;
  const registers = new Int32Array(8);
  for (let bit = 0; bit < 8; bit++) registers[bit] = T[1 << bit] as number;
  for (let j = end - 1; j >= start; j--) {
    for (let bit = 0; bit < 8; bit++) {
      const register = registers[bit] as number;
      if (register >>> 0 === syndrome) return true;
      registers[bit] = (register >>> 8) ^ (T[register & 0xff] as number);
    }
  }
  return false;
}

function popcount(value: number): number {
  let count = 0;
  for (let v = value >>> 0; v !== 0; v &= v - 1) count++;
  return count;
}

/**
 * Whether the damaged frame at `offset` (all of it in `bytes` up to `available`) is one
 * flipped bit away from a valid frame: in its header, or in the first record that fails.
 */
export function frameIsOneBitFromValid(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  available: number,
  expectedFirstLsn: number,
  frameSeed: number,
): boolean {
  if (offset + FRAME_HEADER_BYTES > available) return false;
  const headerCrc = view.getUint32(offset + FRAME_HEADER_CRC_OFFSET, true);
  if (headerCrc !== crc32Update(frameSeed, bytes, offset, offset + FRAME_HEADER_CRC_OFFSET)) {
    return oneBitFromChecksum(bytes, offset, offset + FRAME_HEADER_CRC_OFFSET, headerCrc, frameSeed);
  }
  const frameEnd = Math.min(available, offset + view.getUint32(offset + 4, true));
  const recordCount = view.getUint32(offset + 16, true);
  let cursor = offset + FRAME_HEADER_BYTES;
  for (let i = 0; i < recordCount && cursor < frameEnd; i++) {
    const checked = checkRecord(bytes, view, cursor, frameEnd, expectedFirstLsn + i);
    if (typeof checked === "number") {
      cursor += checked;
      continue;
    }
    return recordIsOneBitFromValid(bytes, view, cursor, frameEnd, checked);
  }
  return false;
}

function recordIsOneBitFromValid(bytes: Uint8Array, view: DataView, offset: number, end: number, damage: RecordDamage): boolean {
  if (offset + RECORD_HEADER_BYTES > end) return false;
  const stored = view.getUint32(offset, true);
  const payloadBytes = view.getUint32(offset + 4, true);
  if (damage === RecordDamage.padding) {
    let differing = 0;
    for (let i = offset + RECORD_HEADER_BYTES + payloadBytes; i < offset + recordBytes(payloadBytes); i++) {
      differing += popcount(bytes[i] as number);
    }
    return differing === 1;
  }
  const coverageStart = offset + RECORD_CRC_COVERAGE_START;
  if (offset + RECORD_HEADER_BYTES + payloadBytes <= end) {
    if (oneBitFromChecksum(bytes, coverageStart, offset + RECORD_HEADER_BYTES + payloadBytes, stored)) return true;
  }
  // A flip in the length field moves the end of what the checksum covers: try each of its bits.
  for (let bit = 0; bit < 32; bit++) {
    const length = (payloadBytes ^ (1 << bit)) >>> 0;
    if (offset + RECORD_HEADER_BYTES + length > end) continue;
    view.setUint32(offset + 4, length, true);
    const matches = crc32Range(bytes, coverageStart, offset + RECORD_HEADER_BYTES + length) === stored;
    view.setUint32(offset + 4, payloadBytes, true);
    if (matches) return true;
  }
  return false;
}
