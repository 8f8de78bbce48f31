/**
 * The store's in-memory state: keys in byte order, each with its value and version. A B+ tree
 * (btree.ts) whose clone is O(1) and copy-on-write, so a checkpoint or a scan takes a
 * snapshot without stopping writers.
 */
import { assert } from "../assert.js";
import { BTree } from "./btree.js";

/**
 * What the state holds for a key: one string, the version (the LSN of the last write to the
 * key, 56 bits, most significant byte first) in its first 7 chars, then the encoded value, one
 * char per byte. One string instead of a string and a `{ value, version }` object saves the
 * object (40 bytes with 64-bit pointers) per key, and a version above 2^31 never turns into a
 * boxed number.
 *
 * A key with an expiry time has the high bit of its first char set (versions are LSNs, below
 * 2^53, so that bit is never part of one), and its expiry (ms since the epoch, 56 bits, most
 * significant byte first) in the 7 chars after the version, before the value. A key without
 * one costs nothing more, and snapshots and checkpoints carry expiries as they carry values.
 */
export type Stored = string;

const VERSION_CHARS = 7;
const EXPIRY_CHARS = 7;
/** Set in the first char when an expiry follows the version. */
const EXPIRY_FLAG = 0x80;
/** Versions and expiries must fit below the flag: 7 bytes minus its bit. */
const STORED_NUMBER_MAX = 2 ** (8 * VERSION_CHARS - 1) - 1;
assert(Number.MAX_SAFE_INTEGER <= STORED_NUMBER_MAX, "every LSN and expiry fits in a stored number");
let scratch = Buffer.allocUnsafe(64 * 1024);

function scratchFor(bytes: number): Buffer {
  if (scratch.byteLength < bytes) scratch = Buffer.allocUnsafe(bytes * 2);
  return scratch;
}

function writeNumber(buffer: Buffer, at: number, number: number): void {
  let rest = number;
  for (let i = at + VERSION_CHARS - 1; i >= at; i--) {
    buffer[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

/** Writes the version, and the expiry after it when there is one; returns where the value starts. */
function writeHead(buffer: Buffer, version: number, expiresAt: number): number {
  writeNumber(buffer, 0, version);
  if (expiresAt === 0) return VERSION_CHARS;
  buffer[0] = (buffer[0] as number) | EXPIRY_FLAG;
  writeNumber(buffer, VERSION_CHARS, expiresAt);
  return VERSION_CHARS + EXPIRY_CHARS;
}

/** `value`: the encoded value (one char per byte). The result is a flat string, built in one copy. */
export function toStored(value: string, version: number): Stored {
  const buffer = scratchFor(VERSION_CHARS + value.length);
  writeNumber(buffer, 0, version);
  buffer.write(value, VERSION_CHARS, "latin1");
  return buffer.toString("latin1", 0, VERSION_CHARS + value.length);
}

/** The same with an expiry (0: none), ms since the epoch. */
export function toStoredExpiring(value: string, version: number, expiresAt: number): Stored {
  if (expiresAt === 0) return toStored(value, version);
  const buffer = scratchFor(VERSION_CHARS + EXPIRY_CHARS + value.length);
  const start = writeHead(buffer, version, expiresAt);
  buffer.write(value, start, "latin1");
  return buffer.toString("latin1", 0, start + value.length);
}

/** The same from the value's bytes (replay, checkpoint loading): one copy, no intermediate string. */
export function storedFromBytes(bytes: Buffer, start: number, end: number, version: number, expiresAt = 0): Stored {
  const buffer = scratchFor(VERSION_CHARS + EXPIRY_CHARS + end - start);
  const at = writeHead(buffer, version, expiresAt);
  bytes.copy(buffer, at, start, end);
  return buffer.toString("latin1", 0, at + end - start);
}

/** `stored`'s value with another version and expiry (0: none): what an expire operation leaves. */
export function restamped(stored: Stored, version: number, expiresAt: number): Stored {
  return toStoredExpiring(storedValue(stored), version, expiresAt);
}

export function storedVersion(stored: Stored): number {
  let version = stored.charCodeAt(0) & ~EXPIRY_FLAG;
  for (let i = 1; i < VERSION_CHARS; i++) version = version * 256 + stored.charCodeAt(i);
  return version;
}

/** Whether the key has an expiry time. */
export function storedExpires(stored: Stored): boolean {
  return stored.charCodeAt(0) >= EXPIRY_FLAG;
}

/** The key's expiry time, ms since the epoch; 0 when it has none. */
export function storedExpiresAt(stored: Stored): number {
  if (stored.charCodeAt(0) < EXPIRY_FLAG) return 0;
  let expiresAt = 0;
  for (let i = VERSION_CHARS; i < VERSION_CHARS + EXPIRY_CHARS; i++) expiresAt = expiresAt * 256 + stored.charCodeAt(i);
  return expiresAt;
}

/** Whether the key's expiry time has come at `nowMs` (reads treat it as absent from then on). */
export function isExpired(stored: Stored, nowMs: number): boolean {
  return stored.charCodeAt(0) >= EXPIRY_FLAG && storedExpiresAt(stored) <= nowMs;
}

function valueStart(stored: Stored): number {
  return stored.charCodeAt(0) >= EXPIRY_FLAG ? VERSION_CHARS + EXPIRY_CHARS : VERSION_CHARS;
}

/** The encoded value (one char per byte). */
export function storedValue(stored: Stored): string {
  return stored.slice(valueStart(stored));
}

export function storedValueBytes(stored: Stored): number {
  return stored.length - valueStart(stored);
}

export class SortedState {
  private constructor(private readonly tree: BTree<Stored>) {}

  static empty(): SortedState {
    return new SortedState(new BTree());
  }

  /**
   * Builds the state from keys in strictly increasing byte order, in one pass, with full
   * leaves: several times faster than inserting one by one, and fuller nodes take less memory.
   */
  static fromSorted(keys: string[], entries: Stored[]): SortedState {
    return new SortedState(BTree.fromSorted(keys, entries));
  }

  get size(): number {
    return this.tree.size;
  }

  get(key: string): Stored | undefined {
    return this.tree.get(key);
  }

  /** Returns what the key held before, if anything. */
  set(key: string, stored: Stored): Stored | undefined {
    return this.tree.set(key, stored);
  }

  /** Returns what the key held, if anything. */
  delete(key: string): Stored | undefined {
    return this.tree.delete(key);
  }

  /** Keys in [gte, lt) (lt undefined: no upper bound); O(keys in range / leaf size). */
  count(gte: string, lt: string | undefined): number {
    return this.tree.countRange(gte, lt);
  }

  /** The key `rank` places after the first key >= `gte`, or undefined past the last. */
  keyAtRank(gte: string, rank: number): string | undefined {
    return this.tree.keyAtRank(gte, rank);
  }

  /** An O(1) copy-on-write snapshot: later writes to this state do not show in it. */
  snapshot(): SortedState {
    return new SortedState(this.tree.clone());
  }

  /** Entries with `from <= key` (ascending) or `key <= from` (descending), in order. */
  entries(from: string | undefined, reverse: boolean): IterableIterator<[string, Stored]> {
    return this.tree.entries(from, reverse);
  }
}
