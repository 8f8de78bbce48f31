/**
 * Ending a Redis connection without losing its last reply. A socket closed while its client is
 * still sending answers the client with a reset, and a reset makes the client's kernel drop the
 * replies it has not read yet: the protocol error or refusal that explains the close, first of
 * all. So the connection writes its last bytes, ends its side, and reads and drops whatever the
 * client still sends until the client ends its side too (the socket then closes), or has sent
 * nothing for LINGER_QUIET_MS. A client that keeps sending is cut off past LINGER_BYTES_MAX
 * dropped bytes or LINGER_MS_MAX, so a closing connection holds nothing for long.
 */
import type { Socket } from "node:net";

export const LINGER_QUIET_MS = 1000;
export const LINGER_MS_MAX = 10_000;
export const LINGER_BYTES_MAX = 1024 * 1024;

/** Writes `last`, ends this side, and lets the socket go as described above. */
export function endAndLinger(socket: Socket, last: string): void {
  let dropped = 0;
  const quiet = setTimeout(() => socket.destroy(), LINGER_QUIET_MS).unref();
  const cap = setTimeout(() => socket.destroy(), LINGER_MS_MAX).unref();
  socket.on("data", (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > LINGER_BYTES_MAX) socket.destroy();
    else quiet.refresh();
  });
  socket.once("close", () => {
    clearTimeout(quiet);
    clearTimeout(cap);
  });
  socket.resume();
  socket.end(last, "latin1");
}
