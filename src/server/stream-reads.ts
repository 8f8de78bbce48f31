/**
 * Blocking stream reads over HTTP (XREAD and XREADGROUP with `blockMs`): the request waits in
 * the store until entries come or its time passes, and then answers what it has, an empty
 * list when the time ran out. While it waits it holds a place among the server's blocked
 * reads (long-requests.ts), and the wait ends at once when the client disconnects (its
 * AbortSignal) or the server shuts down, so that neither leaves a store waiter behind.
 *
 * `blockMs` is at most `blockMsMax`; 0 (Redis's "no time limit") waits `blockMsMax`. The
 * server closes a connection silent for `idleTimeoutMs`, so while a read waits its socket's
 * idle timer is moved past the wait, and put back when the read ends.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isLogbookError } from "../errors.js";
import { HttpError } from "./http-error.js";
import type { LongRequests } from "./long-requests.js";

export interface BlockingLimits {
  blockedReads: LongRequests;
  blockMsMax: number;
  idleTimeoutMs: number;
}

/** The wait a request asked for, checked: undefined (do not wait), or 1..blockMsMax ms. */
export function blockMsOf(blockMs: number | undefined, blockMsMax: number): number | undefined {
  if (blockMs === undefined) return undefined;
  if (blockMs > blockMsMax) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `blockMs is at most ${blockMsMax} (0 waits that long)`);
  }
  return blockMs === 0 ? blockMsMax : blockMs;
}

/**
 * Runs `read` (given the wait and a signal): at once without blockMs, else as a blocking read
 * under the limits. Resolves null when the wait ended without entries: its time ran out, the
 * client left, or the server is shutting down.
 */
export async function readBlocking<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  limits: BlockingLimits,
  blockMs: number | undefined,
  read: (blockMs: number | undefined, signal: AbortSignal | undefined) => Promise<T | null>,
): Promise<T | null> {
  const waitMs = blockMsOf(blockMs, limits.blockMsMax);
  if (waitMs === undefined) return read(undefined, undefined);
  const controller = limits.blockedReads.enter();
  const onClose = () => controller.abort();
  reply.raw.once("close", onClose);
  const socket = request.raw.socket;
  socket.setTimeout(waitMs + limits.idleTimeoutMs);
  try {
    return await read(waitMs, controller.signal);
  } catch (error) {
    if (isLogbookError(error, "LOGBOOK_ABORTED") && controller.signal.aborted) return null;
    throw error;
  } finally {
    reply.raw.off("close", onClose);
    limits.blockedReads.leave(controller);
    if (!socket.destroyed) socket.setTimeout(limits.idleTimeoutMs);
  }
}
