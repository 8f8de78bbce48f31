/**
 * The groups published to the commit ring and not yet acknowledged, oldest first: where each
 * lies in the ring, its LSNs, and how to settle it. A ring of parallel arrays (typed where the
 * fields are numbers), not an object per group: under load every store put is a group of its
 * own, so an object per group (and a queue that copies as it compacts) would allocate on every
 * put (bench/store.ts measures it). Grows by doubling up to the most groups the commit
 * ring can hold; never shrinks (a few MiB at most, for the log's life).
 */
import { assert } from "../assert.js";
import { GROUP_SLOTS } from "./commit-ring.js";

type Resolve = (firstLsn: number) => void;
type Reject = (error: unknown) => void;

const INITIAL_CAPACITY = 1024;

export class PendingGroups {
  private firstLsns = new Float64Array(INITIAL_CAPACITY);
  private lastLsns = new Float64Array(INITIAL_CAPACITY);
  private starts = new Float64Array(INITIAL_CAPACITY);
  private byteCounts = new Float64Array(INITIAL_CAPACITY);
  private resolvers: (Resolve | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  private rejecters: (Reject | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  /** Index of the oldest group; capacity is a power of two, so indices wrap with a mask. */
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(firstLsn: number, lastLsn: number, start: number, bytes: number, resolve: Resolve, reject: Reject): void {
    if (this.count === this.firstLsns.length) this.grow();
    const at = (this.head + this.count) & (this.firstLsns.length - 1);
    this.firstLsns[at] = firstLsn;
    this.lastLsns[at] = lastLsn;
    this.starts[at] = start;
    this.byteCounts[at] = bytes;
    this.resolvers[at] = resolve;
    this.rejecters[at] = reject;
    this.count++;
  }

  /** Where the oldest group starts in the commit ring; -1 when there is none. */
  get oldestStart(): number {
    return this.count === 0 ? -1 : (this.starts[this.head] as number);
  }

  /** The oldest group's first LSN (there must be one). */
  get oldestFirstLsn(): number {
    return this.firstLsns[this.head] as number;
  }

  get oldestLastLsn(): number {
    return this.lastLsns[this.head] as number;
  }

  get oldestBytes(): number {
    return this.byteCounts[this.head] as number;
  }

  /** Removes the oldest group and returns how to resolve it. */
  shift(): Resolve {
    assert(this.count > 0, "a group to shift");
    const at = this.head;
    const resolve = this.resolvers[at] as Resolve;
    this.resolvers[at] = undefined;
    this.rejecters[at] = undefined;
    this.head = (at + 1) & (this.firstLsns.length - 1);
    this.count--;
    return resolve;
  }

  /** Empties the queue and returns how to reject each group it held, oldest first. */
  drainRejecters(): Reject[] {
    const rejecters: Reject[] = [];
    while (this.count > 0) {
      rejecters.push(this.rejecters[this.head] as Reject);
      this.shift();
    }
    return rejecters;
  }

  private grow(): void {
    const capacity = this.firstLsns.length;
    assert(capacity < GROUP_SLOTS, "no more groups pending than the commit ring holds");
    const order = (list: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const grown = new Float64Array(capacity * 2);
      grown.set(list.subarray(this.head));
      grown.set(list.subarray(0, this.head), capacity - this.head);
      return grown;
    };
    const orderList = <T>(list: T[]): T[] => [
      ...list.slice(this.head),
      ...list.slice(0, this.head),
      ...new Array<T>(capacity).fill(undefined as T),
    ];
    this.firstLsns = order(this.firstLsns);
    this.lastLsns = order(this.lastLsns);
    this.starts = order(this.starts);
    this.byteCounts = order(this.byteCounts);
    this.resolvers = orderList(this.resolvers);
    this.rejecters = orderList(this.rejecters);
    this.head = 0;
  }
}
