/**
 * Backpressure: a bound on the writes in flight (sequenced, not yet durable), by count and
 * by bytes. Past it a request is answered 429 at once, with Retry-After, rather than queued:
 * a queue without a bound only turns overload into timeouts and memory growth.
 */
import { LogbookError } from "../errors.js";
import { HttpError } from "./http-error.js";

export interface AdmissionLimits {
  inFlightWritesMax: number;
  inFlightBytesMax: number;
}

export class Admission {
  private writes = 0;
  private bytes = 0;
  rejected = 0;

  constructor(private readonly limits: AdmissionLimits) {}

  /** Refuses early (before the body is read) when the bound is already reached. */
  checkRoom(): void {
    if (this.writes >= this.limits.inFlightWritesMax || this.bytes >= this.limits.inFlightBytesMax) throw this.overloaded();
  }

  /** Takes room for one write of `bytes` until `work` settles. */
  async run<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    if (this.writes >= this.limits.inFlightWritesMax || (this.writes > 0 && this.bytes + bytes > this.limits.inFlightBytesMax)) {
      throw this.overloaded();
    }
    this.writes++;
    this.bytes += bytes;
    try {
      return await work();
    } finally {
      this.writes--;
      this.bytes -= bytes;
    }
  }

  /**
   * Takes room for one write of `bytes` without wrapping it in a promise (the Redis endpoint's
   * path); false when the bound is reached. Each true is matched by one `leave(bytes)`.
   */
  tryEnter(bytes: number): boolean {
    if (this.writes >= this.limits.inFlightWritesMax || (this.writes > 0 && this.bytes + bytes > this.limits.inFlightBytesMax)) {
      this.rejected++;
      return false;
    }
    this.writes++;
    this.bytes += bytes;
    return true;
  }

  /** Whether a write could enter now (not counted as a refusal when it could not). */
  get hasRoom(): boolean {
    return this.writes < this.limits.inFlightWritesMax && this.bytes < this.limits.inFlightBytesMax;
  }

  leave(bytes: number): void {
    this.writes--;
    this.bytes -= bytes;
  }

  /** The typed error of a write refused by tryEnter. */
  overloadedError(): LogbookError {
    return new LogbookError("LOGBOOK_OVERLOADED", "too many writes in flight; retry later");
  }

  get inFlight(): { writes: number; bytes: number } {
    return { writes: this.writes, bytes: this.bytes };
  }

  private overloaded(): HttpError {
    this.rejected++;
    return new HttpError(429, "LOGBOOK_OVERLOADED", "too many writes in flight; retry later", {
      headers: { "retry-after": "1" },
    });
  }
}
