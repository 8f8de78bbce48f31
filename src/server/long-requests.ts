/**
 * Requests that stay open for long (a change-feed stream, a blocking stream read): a bound on
 * how many are open at once, and a way to end them all when the server shuts down. Each holds
 * a socket (and a log reader or a store waiter) for as long as it lasts, so past the bound a
 * new one is refused at once with 429 and Retry-After rather than accepted. The store bounds its
 * own blocked readers too (BLOCKED_READERS_MAX, for every front end together); a bound here is
 * the HTTP server's share.
 */
import { HttpError } from "./http-error.js";

export class LongRequests {
  private readonly open = new Set<AbortController>();
  private closed = false;
  /** Requests refused because the bound was reached, since start. */
  rejected = 0;

  /** `refusal`: what the 429 says, after "at most N" (e.g. "change feeds may be open at once"). */
  constructor(
    private readonly max: number,
    private readonly refusal: string,
  ) {}

  /** Takes a place for one request, ended through the returned controller; release it with `leave`. */
  enter(): AbortController {
    if (this.closed) {
      throw new HttpError(503, "LOGBOOK_UNAVAILABLE", "the server is shutting down", { headers: { "retry-after": "1" } });
    }
    if (this.open.size >= this.max) {
      this.rejected++;
      throw new HttpError(429, "LOGBOOK_OVERLOADED", `at most ${this.max} ${this.refusal}`, { headers: { "retry-after": "1" } });
    }
    const controller = new AbortController();
    this.open.add(controller);
    return controller;
  }

  leave(controller: AbortController): void {
    this.open.delete(controller);
  }

  /** Requests open now. */
  get size(): number {
    return this.open.size;
  }

  /** Whether closeAll ran: a blocking read it ended answers as if its time had run out. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends every open request (a feed's client reconnects elsewhere or later) and refuses new ones. */
  closeAll(): void {
    this.closed = true;
    for (const controller of this.open) controller.abort();
  }
}
