/**
 * The open change-feed streams (GET /v1/changes): a bound on how many there are at once, and
 * a way to end them all when the server shuts down. Each holds a log reader and a socket for
 * as long as its client stays, so past `feedConnectionsMax` a new one is refused at once with
 * 429 and Retry-After rather than accepted.
 */
import { HttpError } from "./http-error.js";

export class FeedConnections {
  private readonly open = new Set<AbortController>();
  private closed = false;
  /** Streams refused because the bound was reached, since start. */
  rejected = 0;

  constructor(private readonly connectionsMax: number) {}

  /** Takes a place for one stream, ended through the returned controller; release it with `leave`. */
  enter(): AbortController {
    if (this.closed) {
      throw new HttpError(503, "LOGBOOK_UNAVAILABLE", "the server is shutting down", { headers: { "retry-after": "1" } });
    }
    if (this.open.size >= this.connectionsMax) {
      this.rejected++;
      throw new HttpError(429, "LOGBOOK_OVERLOADED", `at most ${this.connectionsMax} change feeds may be open at once`, {
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

  get size(): number {
    return this.open.size;
  }

  /** Ends every stream (their clients reconnect elsewhere or later) and refuses new ones. */
  closeAll(): void {
    this.closed = true;
    for (const controller of this.open) controller.abort();
  }
}
