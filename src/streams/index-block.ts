/**
 * One block of a stream's in-memory index: up to BLOCK_ENTRIES_MAX consecutive entries of the
 * stream, in columns. An entry's ms is stored as its distance from the block's first ms, its
 * data position as its distance from the block's first position, and its body length plus one
 * (zero marks a deleted entry), each in a column that is 16 bits wide until a value needs 32
 * (index-column.ts); the upper halves of seq, ms distance and position distance get a column
 * only in a block that has a non-zero one. So an ordinary entry costs 10 bytes and none more
 * than 28.
 *
 * Slots below `start` were trimmed; slots are never reused. A block's boundaries depend only on
 * how many entries the stream had appended (every BLOCK_ENTRIES_MAX), never on positions or ID
 * values, so approximate trims (whole blocks) remove the same entries after a recovery as
 * before it.
 */
import { assert } from "../assert.js";
import { idWords, TWO_32, wordsId } from "./id-words.js";
import { HighColumn, joinWords, NarrowColumn, splitWords } from "./index-column.js";
import type { StreamId } from "./stream-id.js";

export const BLOCK_ENTRIES_MAX = 4096;
/** A block's columns start with room for this many entries and double up to BLOCK_ENTRIES_MAX. */
const BLOCK_CAPACITY_MIN = 16;
/** What a block costs besides its columns' bytes: the objects and typed-array headers, rounded up. */
export const BLOCK_OVERHEAD_BYTES = 512;

const words = new Uint32Array(4);

export class IndexBlock {
  private readonly baseMsHigh: number;
  private readonly baseMsLow: number;
  private readonly basePosition: number;
  /** Slots below this were trimmed. */
  start: number;
  /** Slots used (trimmed ones included). */
  length: number;
  /** Entries at or above `start` that are not deleted. */
  live = 0;
  /** Body bytes of those entries. */
  liveBytes = 0;
  private capacity: number;
  private readonly msLow: NarrowColumn;
  private readonly msHigh: HighColumn;
  private readonly seqLow: NarrowColumn;
  private readonly seqHigh: HighColumn;
  private readonly offsetLow: NarrowColumn;
  private readonly offsetHigh: HighColumn;
  /** Body length + 1; 0 for a deleted entry. */
  private readonly sizes: NarrowColumn;

  /**
   * A block whose first `skipped` slots are already trimmed (a block rebuilt at recovery), with
   * room for at least `capacityMin` entries before its columns grow.
   */
  constructor(firstId: StreamId, firstPosition: number, skipped = 0, capacityMin = BLOCK_CAPACITY_MIN) {
    assert(skipped >= 0 && skipped < BLOCK_ENTRIES_MAX, "a block's skipped slots leave room for an entry");
    idWords(firstId, words);
    this.baseMsHigh = words[0] as number;
    this.baseMsLow = words[1] as number;
    this.basePosition = firstPosition;
    this.start = skipped;
    this.length = skipped;
    this.capacity = Math.min(BLOCK_ENTRIES_MAX, Math.max(capacityMin, 2 ** Math.ceil(Math.log2(skipped + 1))));
    this.msLow = new NarrowColumn(this.capacity);
    this.msHigh = new HighColumn(this.capacity);
    this.seqLow = new NarrowColumn(this.capacity);
    this.seqHigh = new HighColumn(this.capacity);
    this.offsetLow = new NarrowColumn(this.capacity);
    this.offsetHigh = new HighColumn(this.capacity);
    this.sizes = new NarrowColumn(this.capacity);
  }

  get full(): boolean {
    return this.length === BLOCK_ENTRIES_MAX;
  }

  /** Appends an entry; its ID is above every ID in the block and its position above theirs. */
  push(id: StreamId, position: number, bodyBytes: number): void {
    idWords(id, words);
    this.pushWords(words, position, bodyBytes);
  }

  /** `push` of an ID given as its four words (id-words.ts). */
  pushWords(id: Uint32Array, position: number, bodyBytes: number): void {
    assert(!this.full, "a full block takes no entries");
    assert(position >= this.basePosition, "an entry's position is not below its block's first");
    if (this.length === this.capacity) this.grow(Math.min(BLOCK_ENTRIES_MAX, this.capacity * 2));
    let msLow = (id[1] as number) - this.baseMsLow;
    let msHigh = (id[0] as number) - this.baseMsHigh;
    if (msLow < 0) {
      msLow += TWO_32;
      msHigh -= 1;
    }
    assert(msHigh >= 0, "an entry's ms is not below its block's first");
    const at = this.length;
    this.msLow.set(at, msLow);
    this.msHigh.set(at, msHigh);
    this.seqHigh.set(at, id[2] as number);
    this.seqLow.set(at, id[3] as number);
    const [offsetHigh, offsetLow] = splitWords(position - this.basePosition);
    this.offsetLow.set(at, offsetLow);
    this.offsetHigh.set(at, offsetHigh);
    this.sizes.set(at, bodyBytes + 1);
    this.length++;
    this.live++;
    this.liveBytes += bodyBytes;
  }

  idAt(index: number): StreamId {
    let msLow = this.baseMsLow + this.msLow.get(index);
    let msHigh = this.baseMsHigh + this.msHigh.get(index);
    if (msLow >= TWO_32) {
      msLow -= TWO_32;
      msHigh += 1;
    }
    return wordsId(msHigh, msLow, this.seqHigh.get(index), this.seqLow.get(index));
  }

  positionAt(index: number): number {
    return this.basePosition + joinWords(this.offsetHigh.get(index), this.offsetLow.get(index));
  }

  /** The entry's body length, or -1 when it is deleted. */
  bodyBytesAt(index: number): number {
    return this.sizes.get(index) - 1;
  }

  /** Marks a live entry deleted; returns its body length. */
  markDeleted(index: number): number {
    const bodyBytes = this.bodyBytesAt(index);
    assert(index >= this.start && index < this.length && bodyBytes >= 0, "only a live entry is deleted");
    this.sizes.set(index, 0);
    this.live--;
    this.liveBytes -= bodyBytes;
    return bodyBytes;
  }

  /** The first slot in [start, length) whose ID is at or above `id` (`length` when none is). */
  lowerBound(id: StreamId): number {
    idWords(id, words);
    let msLow = (words[1] as number) - this.baseMsLow;
    let msHigh = (words[0] as number) - this.baseMsHigh;
    if (msLow < 0) {
      msLow += TWO_32;
      msHigh -= 1;
    }
    if (msHigh < 0) return this.start;
    const seqHigh = words[2] as number;
    const seqLow = words[3] as number;
    let low = this.start;
    let high = this.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.compareAt(middle, msHigh, msLow, seqHigh, seqLow) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Trims slots below `index` (each already counted out of `live` by the caller's choice). */
  trimTo(index: number): { entries: number; bodyBytes: number } {
    assert(index >= this.start && index <= this.length, "a trim stays inside its block");
    let entries = 0;
    let bodyBytes = 0;
    for (let slot = this.start; slot < index; slot++) {
      const size = this.sizes.get(slot);
      if (size === 0) continue;
      entries++;
      bodyBytes += size - 1;
    }
    this.start = index;
    this.live -= entries;
    this.liveBytes -= bodyBytes;
    return { entries, bodyBytes };
  }

  /** Memory of this block, bytes: its columns and a fixed overhead. */
  get bytes(): number {
    return (
      BLOCK_OVERHEAD_BYTES +
      this.msLow.bytes +
      this.msHigh.bytes +
      this.seqLow.bytes +
      this.seqHigh.bytes +
      this.offsetLow.bytes +
      this.offsetHigh.bytes +
      this.sizes.bytes
    );
  }

  private compareAt(index: number, msHigh: number, msLow: number, seqHigh: number, seqLow: number): number {
    return (
      this.msHigh.get(index) - msHigh ||
      this.msLow.get(index) - msLow ||
      this.seqHigh.get(index) - seqHigh ||
      this.seqLow.get(index) - seqLow
    );
  }

  private grow(capacity: number): void {
    this.capacity = capacity;
    for (const column of [this.msLow, this.msHigh, this.seqLow, this.seqHigh, this.offsetLow, this.offsetHigh, this.sizes]) {
      column.grow(capacity);
    }
  }
}
