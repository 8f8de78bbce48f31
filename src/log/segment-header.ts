/**
 * Segment header codec and segment names (docs/format.md, "Segment file").
 */
import { assert } from "../assert.js";
import { crc32 } from "./checksum.js";
import {
  FORMAT_VERSION,
  FORMAT_VERSION_UNBOUND_FRAMES,
  LOG_ID_BYTES,
  LSN_MAX,
  SEGMENT_HEADER_BYTES,
  SEGMENT_HEADER_CRC_OFFSET,
  SEGMENT_MAGIC,
  SEGMENT_NAME_DIGITS,
  SEGMENT_SUFFIX,
} from "./format.js";

const OFFSET_VERSION = 8;
const OFFSET_HEADER_BYTES = 10;
const OFFSET_FLAGS = 12;
const OFFSET_LOG_ID = 16;
const OFFSET_FIRST_LSN = 32;
const OFFSET_PREVIOUS_FIRST_LSN = 40;
const OFFSET_CREATED_AT_MS = 48;

export interface SegmentHeader {
  /** Random id of the log, the same in every segment of one log. */
  logId: Uint8Array;
  firstLsn: number;
  /** First LSN of the segment before this one, 0 for the log's first segment: finds a missing segment. */
  previousFirstLsn: number;
  createdAtMs: number;
}

/** A header read from disk: its version, and the seed its segment's frame header CRCs start from. */
export interface DecodedSegmentHeader extends SegmentHeader {
  version: number;
  /**
   * The segment header's CRC-32 (version 2), or 0 (version 1). Each frame header's CRC is taken
   * over this header's bytes 0..60 and then its own bytes 0..28, so a frame checks only in the
   * segment incarnation that wrote it (docs/format.md, "Frame").
   */
  frameSeed: number;
}

export function encodeSegmentHeader(header: SegmentHeader): Uint8Array {
  assert(header.logId.byteLength === LOG_ID_BYTES, "log id has LOG_ID_BYTES");
  assert(header.firstLsn >= 1 && header.firstLsn <= LSN_MAX, "first LSN in range");
  assert(header.previousFirstLsn < header.firstLsn, "previous segment starts earlier");
  const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(SEGMENT_MAGIC, 0);
  view.setUint16(OFFSET_VERSION, FORMAT_VERSION, true);
  view.setUint16(OFFSET_HEADER_BYTES, SEGMENT_HEADER_BYTES, true);
  view.setUint32(OFFSET_FLAGS, 0, true);
  bytes.set(header.logId, OFFSET_LOG_ID);
  view.setBigUint64(OFFSET_FIRST_LSN, BigInt(header.firstLsn), true);
  view.setBigUint64(OFFSET_PREVIOUS_FIRST_LSN, BigInt(header.previousFirstLsn), true);
  view.setBigUint64(OFFSET_CREATED_AT_MS, BigInt(Math.max(0, Math.floor(header.createdAtMs))), true);
  view.setUint32(SEGMENT_HEADER_CRC_OFFSET, crc32(bytes.subarray(0, SEGMENT_HEADER_CRC_OFFSET)), true);
  return bytes;
}

/** The frame seed of a segment whose header was just encoded (always the current version). */
export function frameSeedOf(encodedHeader: Uint8Array): number {
  assert(encodedHeader.byteLength === SEGMENT_HEADER_BYTES, "a whole segment header");
  return new DataView(encodedHeader.buffer, encodedHeader.byteOffset).getUint32(SEGMENT_HEADER_CRC_OFFSET, true);
}

/** Decodes a header, or returns why it is not a valid one. */
export function decodeSegmentHeader(bytes: Uint8Array): DecodedSegmentHeader | string {
  if (bytes.byteLength < SEGMENT_HEADER_BYTES) return "segment is shorter than its header";
  const view = new DataView(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) {
    if (bytes[i] !== SEGMENT_MAGIC[i]) return "segment header has no Logbook magic";
  }
  const storedCrc = view.getUint32(SEGMENT_HEADER_CRC_OFFSET, true);
  if (storedCrc !== crc32(bytes.subarray(0, SEGMENT_HEADER_CRC_OFFSET))) return "segment header checksum mismatch";
  const version = view.getUint16(OFFSET_VERSION, true);
  if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_UNBOUND_FRAMES) {
    return `segment format version ${version} is not supported (this version reads ${FORMAT_VERSION_UNBOUND_FRAMES} and ${FORMAT_VERSION})`;
  }
  if (view.getUint16(OFFSET_HEADER_BYTES, true) !== SEGMENT_HEADER_BYTES) return "segment header size is wrong";
  const firstLsn = view.getBigUint64(OFFSET_FIRST_LSN, true);
  const previousFirstLsn = view.getBigUint64(OFFSET_PREVIOUS_FIRST_LSN, true);
  if (firstLsn < 1n || firstLsn > BigInt(LSN_MAX)) return "segment first LSN out of range";
  if (previousFirstLsn >= firstLsn) return "segment previous first LSN is not below its first LSN";
  return {
    logId: bytes.slice(OFFSET_LOG_ID, OFFSET_LOG_ID + LOG_ID_BYTES),
    firstLsn: Number(firstLsn),
    previousFirstLsn: Number(previousFirstLsn),
    createdAtMs: Number(view.getBigUint64(OFFSET_CREATED_AT_MS, true)),
    version,
    frameSeed: version === FORMAT_VERSION_UNBOUND_FRAMES ? 0 : storedCrc,
  };
}

export function segmentName(firstLsn: number): string {
  return `${String(firstLsn).padStart(SEGMENT_NAME_DIGITS, "0")}${SEGMENT_SUFFIX}`;
}

/** The first LSN a segment's name claims, or undefined when the name is not a segment's. */
export function parseSegmentName(name: string): number | undefined {
  if (name.length !== SEGMENT_NAME_DIGITS + SEGMENT_SUFFIX.length || !name.endsWith(SEGMENT_SUFFIX)) return undefined;
  const digits = name.slice(0, SEGMENT_NAME_DIGITS);
  if (!/^[0-9]+$/.test(digits)) return undefined;
  const lsn = Number(digits);
  return lsn >= 1 && lsn <= LSN_MAX ? lsn : undefined;
}

export function sameLogId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatLogId(logId: Uint8Array): string {
  return Buffer.from(logId).toString("hex");
}
