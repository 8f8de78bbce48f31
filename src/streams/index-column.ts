/**
 * The typed-array columns of an index block. A column starts 16 bits wide and widens to 32 bits
 * the first time a value needs it, so a block of ordinary entries (IDs a few ms apart, small
 * seqs, bodies under 64 KiB) costs two bytes per entry in that column; a column only ever grows
 * in capacity and width, never shrinks. `HighColumn` holds the upper 32 bits of a 64-bit value
 * and exists only once a value has a non-zero upper half.
 */
import { assert } from "../assert.js";

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const TWO_32 = 2 ** 32;

function grown<T extends Uint16Array | Uint32Array>(values: T, capacity: number): T {
  if (capacity <= values.length) return values;
  const next = new (values.constructor as new (length: number) => T)(capacity);
  next.set(values);
  return next;
}

/** Unsigned values below 2^32, 16 bits wide until one needs more. */
export class NarrowColumn {
  private values: Uint16Array | Uint32Array;

  constructor(capacity: number) {
    this.values = new Uint16Array(capacity);
  }

  get(index: number): number {
    return this.values[index] as number;
  }

  set(index: number, value: number): void {
    assert(value >= 0 && value <= U32_MAX && Number.isInteger(value), "a narrow column holds u32 values");
    if (value > U16_MAX && this.values instanceof Uint16Array) this.values = Uint32Array.from(this.values);
    this.values[index] = value;
  }

  grow(capacity: number): void {
    this.values = grown(this.values, capacity);
  }

  get bytes(): number {
    return this.values.byteLength;
  }
}

/** Upper halves of 64-bit values: allocated the first time one is not zero. */
export class HighColumn {
  private values: Uint32Array | undefined;
  private capacity: number;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  get(index: number): number {
    return this.values === undefined ? 0 : (this.values[index] as number);
  }

  set(index: number, value: number): void {
    if (value === 0 && this.values === undefined) return;
    this.values ??= new Uint32Array(this.capacity);
    this.values[index] = value;
  }

  grow(capacity: number): void {
    this.capacity = Math.max(this.capacity, capacity);
    if (this.values !== undefined) this.values = grown(this.values, capacity);
  }

  get bytes(): number {
    return this.values?.byteLength ?? 0;
  }
}

/** Splits a non-negative integer below 2^53 into its upper and lower 32 bits. */
export function splitWords(value: number): [high: number, low: number] {
  const high = Math.floor(value / TWO_32);
  return [high, value - high * TWO_32];
}

export function joinWords(high: number, low: number): number {
  return high * TWO_32 + low;
}
