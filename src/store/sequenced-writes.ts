/**
 * Writes sequenced (their LSN is theirs) but not yet applied, oldest first: the queue the
 * store drains in LSN order when the log acknowledges a commit, and the overlay that
 * conditions are checked against (a condition must see every write sequenced before it,
 * durable or not).
 *
 * The queue is parallel arrays, not an object per write, and keeps its capacity from one
 * commit to the next (emptied, its slots are reused; it lets go of them only after a burst far
 * above the usual). The overlay (key → latest sequenced version, and the range deletes
 * queued) is built only when a condition or a keyspace read first asks and dropped whenever the
 * queue empties: a store that never uses `ifVersion` or the keyspace pays no map operation per
 * write. The newest queued value of a key is found from its LSN in the overlay, by a binary
 * search of the queue: nothing per write.
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
import { isStreamCommand, NO_CHANGE, RangeDelete, type StoredWrite } from "./queued-effects.js";

type Resolve = (lsn: number) => void;
/**
 * What a queued write does to its key: a put's encoded value, undefined for a delete, a stream
 * command (an object the store fills with the command's result when it applies it), or one of
 * the keyspace's effects (queued-effects.ts).
 */
export type QueuedValue = string | object | undefined;

/**
 * The newest queued write that decides whether `key` holds a string, for the keyspace's reads
 * of the newest state: `queued` false when none is; `value` a put's encoded value (version
 * `lsn`), a StoredWrite, or undefined for a delete or range delete. `streamAfter`: a stream
 * command on the key is queued after it (it fails if the key holds a string then).
 */
export type QueuedString =
  | { queued: false; streamAfter: boolean }
  | { queued: true; value: string | StoredWrite | undefined; lsn: number; streamAfter: boolean };
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
  /**
   * key → +LSN of its latest sequenced put (or stream command), or −LSN of its latest sequenced
   * delete; one of a range delete's keys is set to −LSN only when a write of the same record came
   * before the range delete (it is newer than every key's other writes).
   */
  private latest: Map<string, number> | undefined;
  /** The range deletes queued, oldest first, with their LSNs: part of the overlay, empty without it. */
  private ranges: { range: RangeDelete; lsn: number }[] = [];
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
    if (this.latest !== undefined) this.note(this.latest, key, value, lsn);
  }

  /** The version `key` has after the writes sequenced so far (0: deleted), or undefined when none is queued for it. */
  versionOf(key: string): number | undefined {
    const signed = this.signedOf(key);
    return signed === undefined ? undefined : Math.max(signed, 0);
  }

  /** The LSN of the newest write queued (any key), or undefined when none is. */
  newestLsn(): number | undefined {
    return this.end === this.head ? undefined : (this.lsns[this.end - 1] as number);
  }

  /** The LSN of the latest write queued for `key`, or undefined when none is. */
  latestLsnOf(key: string): number | undefined {
    const signed = this.signedOf(key);
    return signed === undefined ? undefined : Math.abs(signed);
  }

  /** The newest queued write that decides whether `key` holds a string (QueuedString). */
  newestString(key: string): QueuedString {
    const signed = this.end === this.head ? undefined : this.signedOf(key);
    if (signed === undefined) return { queued: false, streamAfter: false };
    if (signed < 0) return { queued: true, value: undefined, lsn: -signed, streamAfter: false };
    const at = this.slotOf(key, signed);
    const value = this.values[at];
    if (!isStreamCommand(value))
      return { queued: true, value: value as string | StoredWrite | undefined, lsn: signed, streamAfter: false };
    // A stream command is the newest: what decides is the write before it (rare; a walk back).
    for (let i = at - 1; i >= this.head; i--) {
      const older = this.values[i];
      if (older instanceof RangeDelete) {
        if (older.covers(key)) return { queued: true, value: undefined, lsn: this.lsns[i] as number, streamAfter: true };
        continue;
      }
      if (this.keys[i] !== key || older === NO_CHANGE || isStreamCommand(older)) continue;
      return { queued: true, value: older as string | StoredWrite | undefined, lsn: this.lsns[i] as number, streamAfter: true };
    }
    return { queued: false, streamAfter: true };
  }

  /** The overlay's answer for `key`: ±LSN as in `latest`, a range delete newer than its own writes counting as a delete. */
  private signedOf(key: string): number | undefined {
    const latest = this.latest ?? this.buildLatest();
    const signed = latest.get(key);
    if (this.ranges.length === 0) return signed;
    let ranged = 0;
    for (const { range, lsn } of this.ranges) if (lsn > ranged && range.covers(key)) ranged = lsn;
    return ranged > Math.abs(signed ?? 0) ? -ranged : signed;
  }

  /** The slot of the newest write on `key` at `lsn` (one the overlay names). */
  private slotOf(key: string, lsn: number): number {
    let low = this.head;
    let high = this.end;
    // The first slot past `lsn`: LSNs never decrease along the queue.
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.lsns[middle] as number) <= lsn) low = middle + 1;
      else high = middle;
    }
    for (let i = low - 1; i >= this.head && this.lsns[i] === lsn; i--) {
      const value = this.values[i];
      if (this.keys[i] === key && value !== NO_CHANGE && !(value instanceof RangeDelete)) return i;
    }
    assert(false, "the overlay names a queued write");
  }

  /** Notes a queued write in the overlay. */
  private note(latest: Map<string, number>, key: string, value: QueuedValue, lsn: number): void {
    if (typeof value === "object") {
      if (value === NO_CHANGE) return;
      if (value instanceof RangeDelete) {
        this.ranges.push({ range: value, lsn });
        // Writes of the same record before it are deleted by it: the range must read as newer.
        for (const [written, signed] of latest) if (Math.abs(signed) === lsn && value.covers(written)) latest.set(written, -lsn);
        return;
      }
    }
    latest.set(key, value === undefined ? -lsn : lsn);
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
      if (this.ranges.length > 0) this.ranges = this.ranges.filter((queued) => queued.lsn > lsn);
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
    this.ranges = [];
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
    this.ranges = [];
    for (let i = this.head; i < this.end; i++) this.note(latest, this.keys[i] as string, this.values[i], this.lsns[i] as number);
    this.latest = latest;
    return latest;
  }
}
