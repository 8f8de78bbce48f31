/**
 * Record codec (docs/format.md, "Record"): a 16-byte header and the payload, padded to 8 bytes.
 *
 *   0  u32 CRC-32 of bytes 4 .. 16+length
 *   4  u32 payload length
 *   8  u64 LSN (stored as two u32 halves, low first)
 *  16  payload, then zero padding up to a multiple of 8 (outside the CRC, but must be zero)
 */
import { assert } from "../assert.js";
import { crc32Range } from "./checksum.js";
import { LSN_MAX, RECORD_CRC_COVERAGE_START, RECORD_HEADER_BYTES, recordBytes, TWO_POW_32 } from "./format.js";

const OFFSET_CRC = 0;
const OFFSET_LENGTH = 4;
const OFFSET_LSN_LOW = 8;
const OFFSET_LSN_HIGH = 12;

export const RecordDamage = {
  truncated: "record runs past the end of its frame",
  length: "record length is impossible",
  checksum: "record checksum mismatch",
  lsn: "record LSN is out of sequence",
  padding: "record padding is not zero",
} as const;
export type RecordDamage = (typeof RecordDamage)[keyof typeof RecordDamage];

/** Encodes one record at `offset`; returns the bytes it took, padding included. */
export function encodeRecord(bytes: Uint8Array, view: DataView, offset: number, lsn: number, payload: Uint8Array): number {
  const size = encodeUnsealedRecord(bytes, view, offset, lsn, payload);
  sealRecords(bytes, view, offset, offset + size);
  return size;
}

/**
 * Encodes one record at `offset` without its CRC, which `sealRecords` adds later; returns the
 * bytes it took. The log's appenders encode into the commit ring this way and the committer
 * seals a frame's records before writing them: on the writer thread, the CRC (a tenth of a
 * store put's event-loop time at c = 256) runs beside the event loop instead of on it.
 */
export function encodeUnsealedRecord(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  lsn: number,
  payload: Uint8Array,
): number {
  const size = encodeUnsealedRecordHeader(bytes, view, offset, lsn, payload.byteLength);
  bytes.set(payload, offset + RECORD_HEADER_BYTES);
  return size;
}

/**
 * The same but for the payload, which the caller writes at `offset + RECORD_HEADER_BYTES`
 * (payloadBytes of it) before the record is sealed; returns the bytes the record takes.
 */
export function encodeUnsealedRecordHeader(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  lsn: number,
  payloadBytes: number,
): number {
  assert(lsn >= 1 && lsn <= LSN_MAX, "record LSN in range");
  const payloadEnd = offset + RECORD_HEADER_BYTES + payloadBytes;
  const end = offset + recordBytes(payloadBytes);
  assert(end <= bytes.byteLength, "record fits its buffer");
  view.setUint32(offset + OFFSET_LENGTH, payloadBytes, true);
  view.setUint32(offset + OFFSET_LSN_LOW, lsn % TWO_POW_32, true);
  view.setUint32(offset + OFFSET_LSN_HIGH, Math.floor(lsn / TWO_POW_32), true);
  // Buffers are reused, so padding must be cleared: readers may compare it.
  for (let i = payloadEnd; i < end; i++) bytes[i] = 0;
  return end - offset;
}

/** Writes the CRC of every record in bytes[start, end), which holds whole records, one after another. */
export function sealRecords(bytes: Uint8Array, view: DataView, start: number, end: number): void {
  let offset = start;
  while (offset < end) {
    const payloadBytes = readRecordPayloadBytes(view, offset);
    const payloadEnd = offset + RECORD_HEADER_BYTES + payloadBytes;
    view.setUint32(offset + OFFSET_CRC, crc32Range(bytes, offset + RECORD_CRC_COVERAGE_START, payloadEnd), true);
    offset += recordBytes(payloadBytes);
  }
  assert(offset === end, "sealed records fill their range exactly");
}

export function readRecordLsn(view: DataView, offset: number): number {
  return view.getUint32(offset + OFFSET_LSN_HIGH, true) * TWO_POW_32 + view.getUint32(offset + OFFSET_LSN_LOW, true);
}

export function readRecordPayloadBytes(view: DataView, offset: number): number {
  return view.getUint32(offset + OFFSET_LENGTH, true);
}

/**
 * Checks the record at `offset`, which must end by `end`, and must carry `expectedLsn`.
 * Returns its size in bytes (padding included) or the damage found. Never throws on bad bytes.
 */
export function checkRecord(
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  end: number,
  expectedLsn: number,
): number | RecordDamage {
  if (offset + RECORD_HEADER_BYTES > end) return RecordDamage.truncated;
  const payloadBytes = readRecordPayloadBytes(view, offset);
  if (payloadBytes > end - offset - RECORD_HEADER_BYTES) return RecordDamage.length;
  const payloadEnd = offset + RECORD_HEADER_BYTES + payloadBytes;
  const stored = view.getUint32(offset + OFFSET_CRC, true);
  if (stored !== crc32Range(bytes, offset + RECORD_CRC_COVERAGE_START, payloadEnd)) return RecordDamage.checksum;
  if (readRecordLsn(view, offset) !== expectedLsn) return RecordDamage.lsn;
  const size = recordBytes(payloadBytes);
  if (offset + size > end) return RecordDamage.truncated;
  // Padding is outside the CRC; requiring zeros means no bit of a record goes unchecked.
  for (let i = payloadEnd; i < offset + size; i++) if (bytes[i] !== 0) return RecordDamage.padding;
  return size;
}
