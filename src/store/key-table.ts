/**
 * A hash table from keys, as bytes, to a number: replay's first pass (recovery.ts) keeps the
 * LSN of each key's last write here. Keys are copied into one arena and looked up by their
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
/** Key offsets are 32-bit: the arena stops short of 2 GiB of distinct keys. */
const ARENA_BYTES_MAX = 2 ** 31 - 1;

/** FNV-1a, 32 bits: a few operations per byte, and keys are short. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ (bytes[i] as number), 0x01000193);
  return hash | 0;
}

export class KeyTable {
  /** Per slot: the key's hash, then its entry + 1 (0: an empty slot). */
  private slots = new Int32Array(2 * SLOTS_MIN);
  /** Per entry: where its key starts in the arena, then its length. */
  private keys = new Int32Array(2 * ENTRIES_MIN);
  private values = new Float64Array(ENTRIES_MIN);
  private arena = Buffer.allocUnsafe(64 * 1024);
  private arenaBytes = 0;
  private count = 0;

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
    const keys = this.keys;
    for (let entry = 0; entry < this.count; entry++) {
      const start = keys[2 * entry] as number;
      visit(this.arena.toString("latin1", start, start + (keys[2 * entry + 1] as number)), this.values[entry] as number, entry);
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
      if (slots[2 * slot] !== hash || keys[2 * entry + 1] !== length) continue;
      if (this.keyEquals(keys[2 * entry] as number, bytes, start, length)) return entry;
    }
  }

  /** A loop, not Buffer.compare: for keys of a few dozen bytes the native call costs more. */
  private keyEquals(keyStart: number, bytes: Uint8Array, start: number, length: number): boolean {
    const arena = this.arena;
    for (let i = 0; i < length; i++) if (arena[keyStart + i] !== bytes[start + i]) return false;
    return true;
  }

  private add(bytes: Uint8Array, start: number, end: number, hash: number, value: number): void {
    if (this.count === this.values.length) this.growEntries();
    if ((this.count + 1) * 2 > this.slots.length / 2) this.growSlots();
    const length = end - start;
    if (this.arenaBytes + length > ARENA_BYTES_MAX) {
      throw new RangeError(`replay keeps at most ${ARENA_BYTES_MAX} bytes of distinct keys`);
    }
    if (this.arenaBytes + length > this.arena.byteLength) {
      const arena = Buffer.allocUnsafe(Math.max(this.arena.byteLength * 2, this.arenaBytes + length));
      this.arena.copy(arena, 0, 0, this.arenaBytes);
      this.arena = arena;
    }
    this.arena.set(bytes.subarray(start, end), this.arenaBytes);
    const entry = this.count++;
    this.keys[2 * entry] = this.arenaBytes;
    this.keys[2 * entry + 1] = length;
    this.values[entry] = value;
    this.arenaBytes += length;
    place(this.slots, entry, hash);
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
