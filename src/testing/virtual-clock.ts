/**
 * Time on the simulated disk: it moves only as the disk's operations run (`advance`), and
 * timers fire by it, so that decisions the log takes from elapsed time replay exactly from a seed.
 */
import type { Clock, Timer } from "../io/index.js";

/** Virtual milliseconds an operation takes; an fdatasync takes longer, as on a disk. */
export const OPERATION_MS = 0.005;
export const DATASYNC_MS = 0.2;
/** 2026-01-01T00:00:00Z: virtual wall time starts here. */
const VIRTUAL_EPOCH_MS = 1_767_225_600_000;

interface VirtualTimer {
  intervalMs: number;
  dueMs: number;
  callback: () => void;
}

export class VirtualClock implements Clock {
  private nowMs = 0;
  private readonly timers = new Set<VirtualTimer>();

  // Arrow properties: a caller may pass a method on without its object.
  readonly monotonicMs = (): number => this.nowMs;

  readonly wallMs = (): number => VIRTUAL_EPOCH_MS + Math.floor(this.nowMs);

  readonly every = (intervalMs: number, callback: () => void): Timer => {
    const timer = { intervalMs, dueMs: this.nowMs + intervalMs, callback };
    this.timers.add(timer);
    return { cancel: () => this.timers.delete(timer) };
  };

  /** Moves time on by an operation's duration; timers now due fire on the next turn. */
  advance(ms: number): void {
    this.nowMs += ms;
    for (const timer of this.timers) {
      if (timer.dueMs > this.nowMs) continue;
      timer.dueMs = this.nowMs + timer.intervalMs;
      // Not inside the I/O call that moved time: as a real timer, from the event loop.
      setImmediate(() => {
        if (this.timers.has(timer)) timer.callback();
      });
    }
  }
}
