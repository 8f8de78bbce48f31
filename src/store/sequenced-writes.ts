/**
 * Writes sequenced (their LSN is theirs) but not yet applied, oldest first: the queue the
 * store drains in LSN order when the log acknowledges a commit, and the overlay that
 * conditions are checked against (a condition must see every write sequenced before it,
 * durable or not).
 *
 * The queue is parallel arrays, not an object per write, and keeps its capacity from one
 * commit to the next (emptied, its slots are reused; it lets go of them only after a burst far
 * above the usual). The overlay (key → latest sequenced version) is built only when a condition
 * first asks and dropped whenever the queue empties: a store that never uses `ifVersion` pays
 * no map operation per write.
 *
 * A conflicting write waits here too (whenApplied) when a write it conflicts with is not yet
 * applied: its rejection must not come before that write settles, or a retry that reads the
 * applied state would conflict again, at once, without end.
 *
 * Each write group carries its writer's promise settlers, on its last write: draining a write
 * resolves its writer's promise directly. Before, every writer awaited one promise shared by
 * all, woken at each applied commit: two writers in three (c = 256) woke while their write was
 * still in the next commit and awaited again, and each wake went through the writer's async
 * function and then its caller.
 */
import { assert } from "../assert.js";

type Resolve = (lsn: number) => void;
/**
 * What a queued write does to its key: a put's encoded value, undefined for a delete, or a
 * stream command (an object the store fills with the command's result when it applies it).
 */
export type QueuedValue = string | object | undefined;
type Reject = (error: unknown) => void;
/** A caller waiting for every write up to `lsn` to be applied, or for the log to fail first. */
type Waiter = { lsn: number; applied: () => void; failed: Reject };

/** Above this many slots an emptied queue lets go of its arrays (a one-off burst's memory). */
const SLOTS_KEPT_MAX = 1 << 16;
/** Below this the drained front is not worth moving (amortized O(1) per write either way). */
const COMPACT_AFTER = 1024;

export class SequencedWrites {
  private keys: (string | undefined)[] = [];
  /** The encoded value of a put, a stream command, or undefined for a delete (and for a slot not in use). */
  private values: QueuedValue[] = [];
  private lsns: number[] = [];
  private resolvers: (Resolve | undefined)[] = [];
  private rejecters: (Reject | undefined)[] = [];
  private head = 0;
  /** The end of the slots in use; the arrays may be longer (kept capacity). */
  private end = 0;
  /** key → +LSN of its latest sequenced put, or −LSN of its latest sequenced delete. */
  private latest: Map<string, number> | undefined;
  /**
   * Callers of whenApplied, in no order. Each stands for a caller's pending promise, like a
   * queued write, so there are no more of them than of writes its callers keep in flight.
   */
  private waiters: Waiter[] = [];

  get size(): number {
    return this.end - this.head;
  }

  /**
   * Queues a write. `resolve` and `reject` settle its writer: give them with the last write of
   * a group (a batch's operations share one LSN), and none with the others.
   */
  add(key: string, value: QueuedValue, lsn: number, resolve?: Resolve, reject?: Reject): void {
    const at = this.end;
    if (at === this.lsns.length) {
      this.keys.push(key);
      this.values.push(value);
      this.lsns.push(lsn);
      this.resolvers.push(resolve);
      this.rejecters.push(reject);
    } else {
      this.keys[at] = key;
      this.values[at] = value;
      this.lsns[at] = lsn;
      this.resolvers[at] = resolve;
      this.rejecters[at] = reject;
    }
    this.end = at + 1;
    this.latest?.set(key, value === undefined ? -lsn : lsn);
  }

  /** The version `key` has after the writes sequenced so far (0: deleted), or undefined when none is queued for it. */
  versionOf(key: string): number | undefined {
    const latest = this.latest ?? this.buildLatest();
    const signed = latest.get(key);
    return signed === undefined ? undefined : Math.max(signed, 0);
  }

  /** The newest write queued for `key` (its value and LSN), or undefined when none is. */
  newestOf(key: string): { value: QueuedValue; lsn: number } | undefined {
    for (let i = this.end - 1; i >= this.head; i--) {
      if (this.keys[i] === key) return { value: this.values[i], lsn: this.lsns[i] as number };
    }
    return undefined;
  }

  /** The LSN of the latest write queued for `key`, or undefined when none is. */
  latestLsnOf(key: string): number | undefined {
    const latest = this.latest ?? this.buildLatest();
    const signed = latest.get(key);
    return signed === undefined ? undefined : Math.abs(signed);
  }

  /**
   * Calls `applied` once every write up to `lsn` (one that is queued) is applied, after the
   * drain that applies it, or `failed` with the log's error if failAll comes first.
   */
  whenApplied(lsn: number, applied: () => void, failed: Reject): void {
    assert(this.end > this.head, "a waiter waits while writes are queued");
    assert(lsn >= (this.lsns[this.head] as number), "a waiter waits for no write applied already");
    assert(lsn <= (this.lsns[this.end - 1] as number), "a waiter waits for no write not yet queued");
    this.waiters.push({ lsn, applied, failed });
  }

  /**
   * Removes the writes up to `lsn`, oldest first, handing each to `apply`, and resolves their
   * writers with their LSN. A writer resumes only after the caller's synchronous step (promise
   * reactions are microtasks), so once every write up to `lsn` is applied.
   */
  drainUpTo(lsn: number, apply: (key: string, value: QueuedValue, lsn: number) => void): void {
    const { keys, values, lsns, resolvers, rejecters, latest } = this;
    let i = this.head;
    const end = this.end;
    for (; i < end; i++) {
      const at = lsns[i] as number;
      if (at > lsn) break;
      const key = keys[i] as string;
      const value = values[i];
      if (latest !== undefined && Math.abs(latest.get(key) ?? 0) === at) latest.delete(key);
      apply(key, value, at);
      resolvers[i]?.(at);
      // Let go of what the slot held: the value and the writer's settlers.
      keys[i] = undefined;
      values[i] = undefined;
      resolvers[i] = undefined;
      rejecters[i] = undefined;
    }
    if (i === end) {
      this.reset();
    } else {
      this.head = i;
      // Move the live part to the front once the drained front is most of the slots.
      if (i > COMPACT_AFTER && i * 2 > end) this.compact();
    }
    if (this.waiters.length > 0) this.wakeUpTo(lsn);
  }

  /** Rejects every queued writer with `error` and forgets every write (the log failed: none will be acknowledged). */
  failAll(error: unknown): void {
    const rejecters = this.rejecters;
    const pending: Reject[] = [];
    for (let i = this.head; i < this.end; i++) {
      const reject = rejecters[i];
      if (reject !== undefined) pending.push(reject);
    }
    this.keys = [];
    this.values = [];
    this.lsns = [];
    this.resolvers = [];
    this.rejecters = [];
    this.reset();
    const waiters = this.waiters;
    this.waiters = [];
    for (const reject of pending) reject(error);
    for (const waiter of waiters) waiter.failed(error);
  }

  /** Calls the waiters whose writes are all applied now (the queue is consistent again: they may read it). */
  private wakeUpTo(lsn: number): void {
    const waiters = this.waiters;
    const due: Waiter[] = [];
    let kept = 0;
    for (const waiter of waiters) {
      if (waiter.lsn <= lsn) due.push(waiter);
      else waiters[kept++] = waiter;
    }
    waiters.length = kept;
    for (const waiter of due) waiter.applied();
  }

  private reset(): void {
    this.head = 0;
    this.end = 0;
    this.latest = undefined;
    if (this.lsns.length > SLOTS_KEPT_MAX) {
      this.keys = [];
      this.values = [];
      this.lsns = [];
      this.resolvers = [];
      this.rejecters = [];
    }
  }

  private compact(): void {
    const { head, end } = this;
    const live = end - head;
    for (const list of [this.keys, this.values, this.lsns, this.resolvers, this.rejecters] as unknown[][]) {
      list.copyWithin(0, head, end);
      // The slots past the live part held the entries just moved: clear them (numbers may stay).
      if (list !== this.lsns) list.fill(undefined, live, end);
    }
    this.head = 0;
    this.end = live;
  }

  private buildLatest(): Map<string, number> {
    const latest = new Map<string, number>();
    for (let i = this.head; i < this.end; i++) {
      const lsn = this.lsns[i] as number;
      latest.set(this.keys[i] as string, this.values[i] === undefined ? -lsn : lsn);
    }
    this.latest = latest;
    return latest;
  }
}
