/**
 * Blocking stream reads over HTTP (a read with `blockMs`): a bound on how many wait at once,
 * and a way to end them all when the server shuts down. Each holds a socket and a store
 * waiter for up to its blockMs, so past `blockedReadsMax` a new one is refused at once with
 * 429 and Retry-After rather than accepted. The store bounds its own waiters too
 * (BLOCKED_READERS_MAX, for every front end together); this bound is the HTTP server's share.
 */
import { HttpError } from "./http-error.js";

export class BlockedReads {
  private readonly open = new Set<AbortController>();
  private closed = false;
  /** Blocking reads refused because the bound was reached, since start. */
  rejected = 0;

  constructor(private readonly blockedReadsMax: number) {}

  /** Takes a place for one blocking read, ended through the returned controller; release it with `leave`. */
  enter(): AbortController {
    if (this.closed) {
      throw new HttpError(503, "LOGBOOK_UNAVAILABLE", "the server is shutting down", { headers: { "retry-after": "1" } });
    }
    if (this.open.size >= this.blockedReadsMax) {
      this.rejected++;
      throw new HttpError(429, "LOGBOOK_OVERLOADED", `at most ${this.blockedReadsMax} blocking stream reads may wait at once`, {
        headers: { "retry-after": "1" },
      });
    }
    const controller = new AbortController();
    this.open.add(controller);
    return controller;
  }

  leave(controller: AbortController): void {
    this.open.delete(controller);
  }

  /** Blocking reads waiting now. */
  get size(): number {
    return this.open.size;
  }

  /** Whether closeAll ran: a read it ended answers as if its time had run out. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends every waiting read (each answers with nothing new) and refuses new ones. */
  closeAll(): void {
    this.closed = true;
    for (const controller of this.open) controller.abort();
  }
}
