/**
 * A hash table from keys, as bytes, to a number: replay's first pass (recovery.ts) keeps the
 * LSN of each key's last write here. Keys are copied into arena chunks and looked up by their
 * bytes, so a replayed record costs no string and no object: at millions of records, making a
 * string per key and setting it in the B+ tree was most of what replay did.
 *
 * Open addressing with linear probing over a power-of-two slot array, at most half full. A
 * slot holds the key's hash beside its entry, so a probe reads one cache line before it reads
 * any key (at a million keys every array is far out of cache: misses are the cost), and
 * growing never reads a key again.
 */

const SLOTS_MIN = 1024;
const ENTRIES_MIN = 512;
const CHUNK_BYTES_MIN = 64 * 1024;
/**
 * A chunk grows by doubling up to this, then the next one starts: offsets stay 32-bit and no
 * amount of distinct keys is too much (a store that cannot replay its log cannot open at all).
 */
const CHUNK_BYTES_MAX = 64 * 1024 * 1024;

/** FNV-1a, 32 bits: a few operations per byte, and keys are short. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash | 0;
}

export class KeyTable {
  /** Per slot: the key's hash, then its entry + 1 (0: an empty slot). */
  private slots = new Int32Array(2 * SLOTS_MIN);
  /** Per entry: its key's chunk, where the key starts in it, then its length. */
  private keys = new Int32Array(3 * ENTRIES_MIN);
  private values = new Float64Array(ENTRIES_MIN);
  /** Key bytes; keys are appended to the last chunk. */
  private readonly chunks: Buffer[];
  private chunkBytes = 0;
  private count = 0;

  /** `chunkBytesMax`: smaller only in tests, to cross chunks with few keys. */
  constructor(private readonly chunkBytesMax = CHUNK_BYTES_MAX) {
    this.chunks = [Buffer.allocUnsafe(Math.min(CHUNK_BYTES_MIN, chunkBytesMax))];
  }

  get size(): number {
    return this.count;
  }

  /** Sets the key bytes[start, end) to `value`, adding the key when it is new. */
  set(bytes: Uint8Array, start: number, end: number, value: number): void {
    const hash = hashBytes(bytes, start, end);
    const entry = this.find(bytes, start, end, hash);
    if (entry >= 0) {
      this.values[entry] = value;
      return;
    }
    this.add(bytes, start, end, hash, value);
  }

  /** The entry of the key bytes[start, end) (0, 1, … in the order keys were first set), or -1. */
  entryOf(bytes: Uint8Array, start: number, end: number): number {
    return this.find(bytes, start, end, hashBytes(bytes, start, end));
  }

  valueAt(entry: number): number {
    return this.values[entry] as number;
  }

  /** Every key, as a binary string (one char per byte), with its value and entry, in entry order. */
  forEach(visit: (key: string, value: number, entry: number) => void): void {
    const { keys, chunks } = this;
    for (let entry = 0; entry < this.count; entry++) {
      const chunk = chunks[keys[3 * entry] as number] as Buffer;
      const start = keys[3 * entry + 1] as number;
      visit(chunk.toString("latin1", start, start + (keys[3 * entry + 2] as number)), this.values[entry] as number, entry);
    }
  }

  /** Sets the value of an entry (entryOf). */
  setAt(entry: number, value: number): void {
    this.values[entry] = value;
  }

  /** As forEach, passing over the entries whose value is `skipped` (no string made for them). */
  forEachExcept(skipped: number, visit: (key: string, value: number, entry: number) => void): void {
    const { keys, chunks } = this;
    for (let entry = 0; entry < this.count; entry++) {
      const value = this.values[entry] as number;
      if (value === skipped) continue;
      const chunk = chunks[keys[3 * entry] as number] as Buffer;
      const start = keys[3 * entry + 1] as number;
      visit(chunk.toString("latin1", start, start + (keys[3 * entry + 2] as number)), value, entry);
    }
  }

  /** Every value, in entry order (no key strings made). */
  forEachValue(visit: (value: number) => void): void {
    for (let entry = 0; entry < this.count; entry++) visit(this.values[entry] as number);
  }

  private find(bytes: Uint8Array, start: number, end: number, hash: number): number {
    const { slots, keys } = this;
    const mask = slots.length / 2 - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = (slots[2 * slot + 1] as number) - 1;
      if (entry < 0) return -1;
      if (slots[2 * slot] !== hash || keys[3 * entry + 2] !== length) continue;
      if (this.keyEquals(entry, bytes, start, length)) return entry;
    }
  }

  /** A loop, not Buffer.compare: for keys of a few dozen bytes the native call costs more. */
  private keyEquals(entry: number, bytes: Uint8Array, start: number, length: number): boolean {
    const chunk = this.chunks[this.keys[3 * entry] as number] as Buffer;
    const keyStart = this.keys[3 * entry + 1] as number;
    for (let i = 0; i < length; i++) if (chunk[keyStart + i] !== bytes[start + i]) return false;
    return true;
  }

  private add(bytes: Uint8Array, start: number, end: number, hash: number, value: number): void {
    if (this.count === this.values.length) this.growEntries();
    if ((this.count + 1) * 2 > this.slots.length / 2) this.growSlots();
    const length = end - start;
    const chunk = this.chunkFor(length);
    chunk.set(bytes.subarray(start, end), this.chunkBytes);
    const entry = this.count++;
    this.keys[3 * entry] = this.chunks.length - 1;
    this.keys[3 * entry + 1] = this.chunkBytes;
    this.keys[3 * entry + 2] = length;
    this.values[entry] = value;
    this.chunkBytes += length;
    place(this.slots, entry, hash);
  }

  /** The last chunk, grown or followed by a new one so that `length` more bytes fit. */
  private chunkFor(length: number): Buffer {
    const last = this.chunks.length - 1;
    const chunk = this.chunks[last] as Buffer;
    if (this.chunkBytes + length <= chunk.byteLength) return chunk;
    if (chunk.byteLength < this.chunkBytesMax) {
      const grown = Buffer.allocUnsafe(Math.max(Math.min(chunk.byteLength * 2, this.chunkBytesMax), this.chunkBytes + length));
      chunk.copy(grown, 0, 0, this.chunkBytes);
      this.chunks[last] = grown;
      return grown;
    }
    const next = Buffer.allocUnsafe(Math.max(this.chunkBytesMax, length));
    this.chunks.push(next);
    this.chunkBytes = 0;
    return next;
  }

  private growEntries(): void {
    const keys = new Int32Array(this.keys.length * 2);
    keys.set(this.keys);
    this.keys = keys;
    const values = new Float64Array(this.values.length * 2);
    values.set(this.values);
    this.values = values;
  }

  private growSlots(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    for (let slot = 0; slot < old.length; slot += 2) {
      const entry = (old[slot + 1] as number) - 1;
      if (entry >= 0) place(this.slots, entry, old[slot] as number);
    }
  }
}

function place(slots: Int32Array, entry: number, hash: number): void {
  const mask = slots.length / 2 - 1;
  let slot = hash & mask;
  while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
  slots[2 * slot] = hash;
  slots[2 * slot + 1] = entry + 1;
}
