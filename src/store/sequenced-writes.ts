/**
 * Writes sequenced (their LSN is theirs) but not yet applied, oldest first: the queue the
 * store drains in LSN order when the log acknowledges a commit, and the overlay that
 * conditions are checked against (a condition must see every write sequenced before it,
 * durable or not).
 *
 * The queue is three parallel arrays, not an object per write, and the overlay (key → latest
 * sequenced version) is built only when a condition first asks and dropped whenever the queue
 * empties: a store that never uses `ifVersion` pays no map operation per write.
 */
export class SequencedWrites {
  private keys: string[] = [];
  /** The encoded value of a put; undefined for a delete. */
  private values: (string | undefined)[] = [];
  private lsns: number[] = [];
  private head = 0;
  /** key → +LSN of its latest sequenced put, or −LSN of its latest sequenced delete. */
  private latest: Map<string, number> | undefined;

  get size(): number {
    return this.lsns.length - this.head;
  }

  add(key: string, value: string | undefined, lsn: number): void {
    this.keys.push(key);
    this.values.push(value);
    this.lsns.push(lsn);
    this.latest?.set(key, value === undefined ? -lsn : lsn);
  }

  /** The version `key` has after the writes sequenced so far (0: deleted), or undefined when none is queued for it. */
  versionOf(key: string): number | undefined {
    const latest = this.latest ?? this.buildLatest();
    const signed = latest.get(key);
    return signed === undefined ? undefined : Math.max(signed, 0);
  }

  /** Removes the writes up to `lsn`, oldest first, handing each to `apply`. */
  drainUpTo(lsn: number, apply: (key: string, value: string | undefined, lsn: number) => void): void {
    const { keys, values, lsns, latest } = this;
    let i = this.head;
    const end = lsns.length;
    for (; i < end; i++) {
      const at = lsns[i] as number;
      if (at > lsn) break;
      const key = keys[i] as string;
      const value = values[i];
      if (latest !== undefined && Math.abs(latest.get(key) ?? 0) === at) latest.delete(key);
      apply(key, value, at);
    }
    if (i === end) {
      this.clear();
      return;
    }
    this.head = i;
    // Compact once the drained front is most of the arrays (amortized O(1) per write).
    if (i > 1024 && i * 2 > end) {
      this.keys = keys.slice(i);
      this.values = values.slice(i);
      this.lsns = lsns.slice(i);
      this.head = 0;
    }
  }

  /** Forgets every queued write (the log failed: none of them will ever be acknowledged). */
  clear(): void {
    this.keys.length = 0;
    this.values.length = 0;
    this.lsns.length = 0;
    this.head = 0;
    this.latest = undefined;
  }

  private buildLatest(): Map<string, number> {
    const latest = new Map<string, number>();
    for (let i = this.head; i < this.lsns.length; i++) {
      const lsn = this.lsns[i] as number;
      latest.set(this.keys[i] as string, this.values[i] === undefined ? -lsn : lsn);
    }
    this.latest = latest;
    return latest;
  }
}
