/**
 * Blocking writes and syncs on a file descriptor, for the log's committer: on its writer
 * thread a blocking call blocks only that thread, and it avoids a round trip through libuv's
 * thread pool per write and per fdatasync. The event loop calls them
 * only where it would otherwise just wait for the fsync (the log's commitOnEventLoop).
 */
import { fdatasyncSync, writeSync, writevSync } from "node:fs";

/** Writes every chunk, in order, starting at `position`; retries short writes. */
export function writeChunksSync(fd: number, chunks: readonly Uint8Array[], position: number): void {
  let total = 0;
  for (const chunk of chunks) total += chunk.byteLength;
  let written = writevSync(fd, chunks as Uint8Array[], position);
  if (written === total) return;
  // A short writev: finish chunk by chunk from where it stopped.
  let offset = 0;
  for (const chunk of chunks) {
    const end = offset + chunk.byteLength;
    if (written < end) {
      let inChunk = Math.max(0, written - offset);
      while (inChunk < chunk.byteLength) {
        const n = writeSync(fd, chunk, inChunk, chunk.byteLength - inChunk, position + offset + inChunk);
        inChunk += n;
      }
      written = end;
    }
    offset = end;
  }
}

export function datasyncSync(fd: number): void {
  fdatasyncSync(fd);
}
