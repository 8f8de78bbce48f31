/**
 * Readers blocked on streams (a read with `blockMs`): each waits on one or more keys until a
 * commit applies a write to one of them, its time runs out, or its signal aborts. The store
 * wakes the keys a commit touched once the whole commit is applied, so a woken reader sees
 * every entry of it; nothing polls. A waiter costs a set entry per key and one timer.
 */
import { LogbookError } from "../errors.js";

/** How many readers may block at once; past it a blocking read is refused as overloaded. */
export const BLOCKED_READERS_MAX = 100_000;

interface Waiter {
  keys: readonly string[];
  wake: () => void;
}

export class StreamWaiters {
  private readonly byKey = new Map<string, Set<Waiter>>();
  private count = 0;

  /** Readers blocked now. */
  get size(): number {
    return this.count;
  }

  /**
   * Resolves true when a write to one of `keys` is applied, false when `blockMs` passes first
   * (0: no time limit); rejects with LOGBOOK_ABORTED when `signal` aborts, and with `closed`'s
   * error when the store closes.
   */
  wait(keys: readonly string[], blockMs: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (this.count >= BLOCKED_READERS_MAX) {
      return Promise.reject(new LogbookError("LOGBOOK_OVERLOADED", `${BLOCKED_READERS_MAX} readers are blocked already`));
    }
    if (signal?.aborted) return Promise.reject(aborted(signal));
    return new Promise<boolean>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: boolean | Error) => {
        this.remove(waiter);
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const onAbort = () => finish(aborted(signal as AbortSignal));
      const waiter: Waiter = { keys, wake: () => finish(true) };
      if (blockMs > 0) timer = setTimeout(() => finish(false), blockMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.add(waiter);
    });
  }

  /** Wakes every reader waiting on one of `keys` (a commit applied writes to them). */
  wake(keys: Iterable<string>): void {
    const due = new Set<Waiter>();
    for (const key of keys) for (const waiter of this.byKey.get(key) ?? []) due.add(waiter);
    for (const waiter of due) waiter.wake();
  }

  /** Wakes every reader (the store is closing: each read returns what it has). */
  wakeAll(): void {
    const due = new Set<Waiter>();
    for (const set of this.byKey.values()) for (const waiter of set) due.add(waiter);
    for (const waiter of due) waiter.wake();
  }

  /** Whether anyone waits on `key` (the store notes touched keys only then). */
  has(key: string): boolean {
    return this.byKey.has(key);
  }

  private add(waiter: Waiter): void {
    this.count++;
    for (const key of waiter.keys) {
      let set = this.byKey.get(key);
      if (set === undefined) this.byKey.set(key, (set = new Set()));
      set.add(waiter);
    }
  }

  private remove(waiter: Waiter): void {
    let removed = false;
    for (const key of waiter.keys) {
      const set = this.byKey.get(key);
      if (set?.delete(waiter)) removed = true;
      if (set?.size === 0) this.byKey.delete(key);
    }
    if (removed) this.count--;
  }
}

function aborted(signal: AbortSignal): LogbookError {
  return new LogbookError("LOGBOOK_ABORTED", "the blocking read was aborted", { cause: signal.reason });
}
