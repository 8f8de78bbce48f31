/**
 * The on-disk format of the log, as documented byte by byte in docs/format.md
 * ("Segment file", "Frame", "Record"). All integers are little-endian.
 */
import { assert } from "../assert.js";

/** Segment files are named `<firstLsn as 20 decimal digits>.log`. */
export const SEGMENT_SUFFIX = ".log";
export const SEGMENT_NAME_DIGITS = 20;
/** A preallocated, zero-filled (or recycled) file ready to become the next segment. */
export const SPARE_SEGMENT_NAME = "spare.log";
/** The spare while it is being zero-filled; renamed to SPARE_SEGMENT_NAME once complete. */
export const SPARE_SEGMENT_TEMPORARY_NAME = "spare.log.tmp";
/** Bytes kept aside before a repair: `<segment>.<offset>.broken`. */
export const BROKEN_SUFFIX = ".broken";

/** The version new segments are written in. */
export const FORMAT_VERSION = 2;
/** Version 1 segments are read too: their frames are not bound to their segment (frame CRC seed 0). */
export const FORMAT_VERSION_UNBOUND_FRAMES = 1;
export const SEGMENT_MAGIC = new Uint8Array([0x4c, 0x4f, 0x47, 0x42, 0x4f, 0x4f, 0x4b, 0x0a]); // "LOGBOOK\n"
export const SEGMENT_HEADER_BYTES = 64;
export const SEGMENT_HEADER_CRC_OFFSET = 60;
export const LOG_ID_BYTES = 16;

/** "LBFR" read as a little-endian u32. */
export const FRAME_MAGIC = 0x5246424c;
export const FRAME_HEADER_BYTES = 32;
export const FRAME_HEADER_CRC_OFFSET = 28;

export const RECORD_HEADER_BYTES = 16;
/** The record checksum covers the record from this offset to the end of its payload. */
export const RECORD_CRC_COVERAGE_START = 4;

/** Frames and records start on multiples of this, so a damaged region can be scanned past. */
export const ALIGNMENT_BYTES = 8;

/** u64 fields are stored as two u32 halves, low first: value = high * TWO_POW_32 + low. */
export const TWO_POW_32 = 2 ** 32;

/** LSNs are JavaScript numbers; the format stores u64 but the API stops at 2^53. */
export const LSN_MAX = Number.MAX_SAFE_INTEGER;

export function alignUp(bytes: number): number {
  return Math.ceil(bytes / ALIGNMENT_BYTES) * ALIGNMENT_BYTES;
}

/** Bytes a record of `payloadBytes` takes in a frame, padding included. */
export function recordBytes(payloadBytes: number): number {
  return alignUp(RECORD_HEADER_BYTES + payloadBytes);
}

assert(SEGMENT_HEADER_BYTES % ALIGNMENT_BYTES === 0, "segment header keeps frames aligned");
assert(FRAME_HEADER_BYTES % ALIGNMENT_BYTES === 0, "frame header keeps records aligned");
assert(RECORD_HEADER_BYTES % ALIGNMENT_BYTES === 0, "record header is aligned");
assert(SEGMENT_HEADER_CRC_OFFSET + 4 === SEGMENT_HEADER_BYTES, "segment CRC closes the header");
assert(FRAME_HEADER_CRC_OFFSET + 4 === FRAME_HEADER_BYTES, "frame CRC closes the header");
