/**
 * Writing zeros over a range of a file: preallocating a segment (so that later fdatasyncs
 * commit data only, not a file-size change) and clearing a torn tail.
 */
import type { FileHandle } from "../io/index.js";

const ZERO_CHUNK_BYTES = 1024 * 1024;

/**
 * Writes zeros over [start, end) in 1 MiB chunks. With `syncEachChunk`, each chunk is
 * fdatasynced as it goes, so that no later fdatasync (the log's own, on the same disk) has
 * to wait behind a whole segment of dirty zeros at once.
 */
export async function writeZeros(handle: FileHandle, start: number, end: number, syncEachChunk = false): Promise<void> {
  const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, Math.max(0, end - start)));
  for (let at = start; at < end; at += zeros.byteLength) {
    await handle.write(zeros.subarray(0, Math.min(zeros.byteLength, end - at)), at);
    if (syncEachChunk) await handle.datasync();
  }
}
