/**
 * The keys that have an expiry time, ordered by it, so that the sweeper (expiry-sweeper.ts)
 * takes the due ones from the front without looking at any other key. It follows the applied
 * state: the store notes each expiry a write sets or removes as it applies it (store.ts,
 * keyspace-apply.ts), and adds those of the state it loaded when it opens. A B+ tree keyed by
 * the expiry time (7 chars, most significant byte first, so keys sort by time) and then the key.
 */
import { BTree } from "./btree.js";

const TIME_CHARS = 7;

function indexKey(key: string, expiresAt: number): string {
  let time = "";
  let rest = expiresAt;
  for (let i = 0; i < TIME_CHARS; i++) {
    time = String.fromCharCode(rest % 256) + time;
    rest = Math.floor(rest / 256);
  }
  return time + key;
}

function timeOf(entry: string): number {
  let expiresAt = 0;
  for (let i = 0; i < TIME_CHARS; i++) expiresAt = expiresAt * 256 + entry.charCodeAt(i);
  return expiresAt;
}

export class ExpiryIndex {
  private readonly tree = new BTree<string>();

  get size(): number {
    return this.tree.size;
  }

  add(key: string, expiresAt: number): void {
    this.tree.set(indexKey(key, expiresAt), key);
  }

  remove(key: string, expiresAt: number): void {
    this.tree.delete(indexKey(key, expiresAt));
  }

  /** Up to `countMax` keys whose expiry time is at or before `nowMs`, soonest first. */
  due(nowMs: number, countMax: number): string[] {
    const keys: string[] = [];
    if (this.tree.size === 0) return keys;
    for (const [entry, key] of this.tree.entries(undefined, false)) {
      if (keys.length >= countMax || timeOf(entry) > nowMs) break;
      keys.push(key);
    }
    return keys;
  }
}
