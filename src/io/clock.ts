/**
 * Time, as the log and the store read it. Real by default; the simulated disk supplies a
 * virtual clock that advances only with its own operations, so that decisions taken from
 * elapsed time (when to wake the committer, how long a commit took, when sync `interval`
 * fdatasyncs) come out the same on every run of a seed.
 */
export interface Clock {
  /** Milliseconds from an arbitrary origin that never goes back (performance.now()). */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch, for timestamps written to disk (Date.now()). */
  wallMs(): number;
  /** Calls `callback` every `intervalMs` until cancelled; never keeps the process alive. */
  every(intervalMs: number, callback: () => void): Timer;
}

export interface Timer {
  cancel(): void;
}

export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  every(intervalMs, callback) {
    const timer = setInterval(callback, intervalMs);
    timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};
