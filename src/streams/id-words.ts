/**
 * A stream ID as four unsigned 32-bit words (ms high, ms low, seq high, seq low), the form the
 * index columns compare and store, and back. The ID's string form is big-endian, so the words
 * are read four chars at a time.
 */
import type { StreamId } from "./stream-id.js";

export const TWO_32 = 2 ** 32;

/** Writes the four words of `id` into `out` [msHigh, msLow, seqHigh, seqLow]. */
export function idWords(id: StreamId, out: Uint32Array): void {
  for (let word = 0; word < 4; word++) {
    const at = word * 4;
    out[word] =
      ((id.charCodeAt(at) << 24) | (id.charCodeAt(at + 1) << 16) | (id.charCodeAt(at + 2) << 8) | id.charCodeAt(at + 3)) >>> 0;
  }
}

/** The ID of four words (each an unsigned 32-bit integer). */
export function wordsId(msHigh: number, msLow: number, seqHigh: number, seqLow: number): StreamId {
  return String.fromCharCode(
    msHigh >>> 24,
    (msHigh >>> 16) & 0xff,
    (msHigh >>> 8) & 0xff,
    msHigh & 0xff,
    msLow >>> 24,
    (msLow >>> 16) & 0xff,
    (msLow >>> 8) & 0xff,
    msLow & 0xff,
    seqHigh >>> 24,
    (seqHigh >>> 16) & 0xff,
    (seqHigh >>> 8) & 0xff,
    seqHigh & 0xff,
    seqLow >>> 24,
    (seqLow >>> 16) & 0xff,
    (seqLow >>> 8) & 0xff,
    seqLow & 0xff,
  );
}
