/**
 * The in-memory index of one stream's entries: its blocks (index-block.ts) in ID order, where
 * each entry's body is in the data segments, and which entries are deleted. It decides every
 * question about which entries exist (search, range, trims, deletes) without touching the disk.
 *
 * Invariants after every call: the first slot of the first block is live (or there are no
 * blocks), and `length`/`bodyBytes` are the sums of the blocks' live counts and bytes. Both
 * depend only on the sequence of appends, deletes and trims, so an index rebuilt from a
 * checkpoint and then given the same calls again is the same index.
 */
import { assert } from "../assert.js";
import { idWords, wordsId } from "./id-words.js";
import { BLOCK_ENTRIES_MAX, IndexBlock } from "./index-block.js";
import type { StreamId } from "./stream-id.js";

/** What an index costs besides its blocks: the object and its block array. */
export const STREAM_INDEX_OVERHEAD_BYTES = 128;

/** Where the entries an index lists are: parallel arrays, one element per entry. */
export interface EntryLocations {
  ids: StreamId[];
  positions: number[];
  bodyBytes: number[];
}

/** The index as a checkpoint records it (see saved-entries.ts). */
export interface IndexState {
  /** Data position of the first live entry; undefined when there is none. */
  firstPosition: number | undefined;
  /** Slots of the first block before its first live entry. */
  skipped: number;
  length: number;
  bodyBytes: number;
  /** Deleted entries still in the index, ascending. */
  deleted: StreamId[];
}

/** The slot an entry is in: block number and slot within it. */
interface Slot {
  block: number;
  slot: number;
}

const UNLIMITED = Number.POSITIVE_INFINITY;
/** Scratch words of the ID `append` is given. */
const appendWords = new Uint32Array(4);

/** A trim's limit: 0 (or less) means none, as in XTRIM's LIMIT. */
function limitOf(limit: number): number {
  return limit > 0 ? limit : UNLIMITED;
}

export class StreamIndex {
  private readonly blocks: IndexBlock[] = [];
  private readonly blockFirstIds: StreamId[] = [];
  length = 0;
  bodyBytes = 0;
  /** The words (id-words.ts) of the last ID appended, when `appended`. */
  private readonly lastAppended = new Uint32Array(4);
  private appended = false;
  /** Skipped slots the next new block starts with (a rebuilt first block). */
  private pendingSkip: number;

  constructor(firstBlockSkipped = 0) {
    this.pendingSkip = firstBlockSkipped;
  }

  append(id: StreamId, position: number, bodyBytes: number): void {
    idWords(id, appendWords);
    this.appendWords(appendWords, position, bodyBytes, id);
  }

  /** Whether an ID given as its words is above every ID appended so far. */
  follows(id: Uint32Array): boolean {
    if (!this.appended) return true;
    const last = this.lastAppended;
    for (let word = 0; word < 4; word++) {
      if ((id[word] as number) !== (last[word] as number)) return (id[word] as number) > (last[word] as number);
    }
    return false;
  }

  /** `append` of an ID given as its words; `text`, its string form, when the caller has it. */
  appendWords(id: Uint32Array, position: number, bodyBytes: number, text?: StreamId): void {
    assert(this.follows(id), "a stream's IDs increase");
    let last = this.blocks[this.blocks.length - 1];
    if (last === undefined || last.full) {
      const firstId = text ?? wordsId(id[0] as number, id[1] as number, id[2] as number, id[3] as number);
      // A stream that filled a block most likely fills the next: it starts at full size rather than growing to it.
      last = new IndexBlock(firstId, position, this.pendingSkip, last === undefined ? undefined : BLOCK_ENTRIES_MAX);
      this.pendingSkip = 0;
      this.blocks.push(last);
      this.blockFirstIds.push(firstId);
    }
    last.pushWords(id, position, bodyBytes);
    this.lastAppended.set(id);
    this.appended = true;
    this.length++;
    this.bodyBytes += bodyBytes;
  }

  get firstId(): StreamId | undefined {
    const first = this.blocks[0];
    return first === undefined || this.length === 0 ? undefined : first.idAt(first.start);
  }

  get lastId(): StreamId | undefined {
    if (this.length === 0) return undefined;
    for (let b = this.blocks.length - 1; b >= 0; b--) {
      const block = this.blocks[b] as IndexBlock;
      for (let slot = block.length - 1; slot >= block.start; slot--) {
        if (block.bodyBytesAt(slot) >= 0) return block.idAt(slot);
      }
    }
    return undefined;
  }

  /** The location of a live entry, or undefined. */
  locate(id: StreamId): { position: number; bodyBytes: number } | undefined {
    const at = this.find(id);
    if (at === undefined) return undefined;
    const block = this.blocks[at.block] as IndexBlock;
    const bodyBytes = block.bodyBytesAt(at.slot);
    return bodyBytes < 0 ? undefined : { position: block.positionAt(at.slot), bodyBytes };
  }

  has(id: StreamId): boolean {
    return this.locate(id) !== undefined;
  }

  delete(id: StreamId): boolean {
    if (this.locate(id) === undefined) return false;
    const at = this.find(id) as Slot;
    const removed = (this.blocks[at.block] as IndexBlock).markDeleted(at.slot);
    this.length--;
    this.bodyBytes -= removed;
    this.normalizeFront();
    return true;
  }

  /** Live entries with IDs in [from, to], in order (or reverse), at most `count` of them and (past the first) at most `bytesMax` body bytes. */
  locations(from: StreamId, to: StreamId, count: number, reverse: boolean, bytesMax = UNLIMITED): EntryLocations {
    const found: EntryLocations = { ids: [], positions: [], bodyBytes: [] };
    if (from > to || count <= 0) return found;
    let bytes = 0;
    this.visit(from, to, reverse, (block, slot) => {
      const size = block.bodyBytesAt(slot);
      if (size < 0) return true;
      if (found.ids.length > 0 && bytes + size > bytesMax) return false;
      found.ids.push(block.idAt(slot));
      found.positions.push(block.positionAt(slot));
      found.bodyBytes.push(size);
      bytes += size;
      return found.ids.length < count;
    });
    return found;
  }

  ids(from: StreamId, to: StreamId, count: number, reverse: boolean): StreamId[] {
    return this.locations(from, to, count, reverse).ids;
  }

  /** Removes the oldest entries until at most `maxLength` are left (whole blocks only when approximate); at most `limit` of them. */
  trimToLength(maxLength: number, approximate: boolean, limit: number): number {
    let budget = limitOf(limit);
    let removed = 0;
    while (this.length > maxLength && budget > 0) {
      const first = this.blocks[0] as IndexBlock;
      if (this.length - first.live >= maxLength && first.live <= budget) {
        const entries = this.dropFirstBlock();
        removed += entries;
        budget -= entries;
        continue;
      }
      if (approximate) break;
      removed += this.trimFirstBlock(Math.min(this.length - maxLength, budget), UNLIMITED);
      break;
    }
    this.normalizeFront();
    return removed;
  }

  /** Removes the entries below `minId` (whole blocks only when approximate); at most `limit` of them. */
  trimBefore(minId: StreamId, approximate: boolean, limit: number): number {
    let budget = limitOf(limit);
    let removed = 0;
    while (this.blocks.length > 0 && budget > 0) {
      const first = this.blocks[0] as IndexBlock;
      if (first.idAt(first.length - 1) < minId && first.live <= budget) {
        const entries = this.dropFirstBlock();
        removed += entries;
        budget -= entries;
        continue;
      }
      if (approximate) break;
      const below = this.countLiveBelow(first, first.lowerBound(minId));
      removed += this.trimFirstBlock(Math.min(below, budget), UNLIMITED);
      break;
    }
    this.normalizeFront();
    return removed;
  }

  /** Removes the oldest entries until their bodies take at most `maxBytes`. */
  trimToBytes(maxBytes: number): number {
    let removed = 0;
    while (this.bodyBytes > maxBytes) {
      const first = this.blocks[0] as IndexBlock;
      if (this.bodyBytes - first.liveBytes > maxBytes) {
        removed += this.dropFirstBlock();
        continue;
      }
      removed += this.trimFirstBlock(UNLIMITED, this.bodyBytes - maxBytes);
      break;
    }
    this.normalizeFront();
    return removed;
  }

  /** What a checkpoint records of this index. */
  state(): IndexState {
    const first = this.blocks[0];
    const deleted: StreamId[] = [];
    for (const block of this.blocks) {
      if (block.live === block.length - block.start) continue;
      for (let slot = block.start; slot < block.length; slot++) if (block.bodyBytesAt(slot) < 0) deleted.push(block.idAt(slot));
    }
    return {
      firstPosition: first === undefined ? undefined : first.positionAt(first.start),
      skipped: first?.start ?? 0,
      length: this.length,
      bodyBytes: this.bodyBytes,
      deleted,
    };
  }

  /** Calls `visit` with the data positions of each block's first and last remaining slot. */
  spans(visit: (first: number, last: number) => void): void {
    for (const block of this.blocks) visit(block.positionAt(block.start), block.positionAt(block.length - 1));
  }

  /** Memory of this index, bytes. */
  get bytes(): number {
    let bytes = STREAM_INDEX_OVERHEAD_BYTES;
    for (const block of this.blocks) bytes += block.bytes + 2 * 16 + 8;
    return bytes;
  }

  /** The slot of an ID, if the index holds it (live or deleted). */
  private find(id: StreamId): Slot | undefined {
    const at = this.lowerBound(id);
    const block = this.blocks[at.block];
    return block !== undefined && at.slot < block.length && block.idAt(at.slot) === id ? at : undefined;
  }

  /** The first slot whose ID is at or above `id` (past the end: block = blocks.length). */
  private lowerBound(id: StreamId): Slot {
    let low = 0;
    let high = this.blocks.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.blockFirstIds[middle] as StreamId) <= id) low = middle + 1;
      else high = middle;
    }
    const b = Math.max(0, low - 1);
    const block = this.blocks[b];
    if (block === undefined) return { block: 0, slot: 0 };
    const slot = block.lowerBound(id);
    if (slot < block.length) return { block: b, slot };
    const next = this.blocks[b + 1];
    return next === undefined ? { block: b + 1, slot: 0 } : { block: b + 1, slot: next.start };
  }

  /** Visits slots with IDs in [from, to] in order or reverse until `visit` returns false. */
  private visit(from: StreamId, to: StreamId, reverse: boolean, visit: (block: IndexBlock, slot: number) => boolean): void {
    if (!reverse) {
      const at = this.lowerBound(from);
      for (let b = at.block; b < this.blocks.length; b++) {
        const block = this.blocks[b] as IndexBlock;
        for (let slot = b === at.block ? at.slot : block.start; slot < block.length; slot++) {
          if (block.idAt(slot) > to || !visit(block, slot)) return;
        }
      }
      return;
    }
    const at = this.lowerBound(to);
    let b = at.block;
    let slot = at.slot;
    const atBlock = this.blocks[b];
    if (atBlock === undefined || slot >= atBlock.length || atBlock.idAt(slot) > to) slot--;
    for (; b >= 0; b--) {
      const block = this.blocks[b];
      if (block === undefined) {
        slot = (this.blocks[b - 1]?.length ?? 0) - 1;
        continue;
      }
      if (slot >= block.length) slot = block.length - 1;
      for (; slot >= block.start; slot--) {
        if (block.idAt(slot) < from || !visit(block, slot)) return;
      }
      slot = (this.blocks[b - 1]?.length ?? 0) - 1;
    }
  }

  private countLiveBelow(block: IndexBlock, end: number): number {
    let live = 0;
    for (let slot = block.start; slot < end; slot++) if (block.bodyBytesAt(slot) >= 0) live++;
    return live;
  }

  private dropFirstBlock(): number {
    const first = this.blocks.shift() as IndexBlock;
    this.blockFirstIds.shift();
    this.length -= first.live;
    this.bodyBytes -= first.liveBytes;
    return first.live;
  }

  /** Trims the first block's oldest live entries: `entries` of them, or as many as it takes to remove `bytes` body bytes. */
  private trimFirstBlock(entries: number, bytes: number): number {
    const first = this.blocks[0] as IndexBlock;
    let slot = first.start;
    let counted = 0;
    let countedBytes = 0;
    while (slot < first.length && counted < entries && countedBytes < bytes) {
      const size = first.bodyBytesAt(slot++);
      if (size < 0) continue;
      counted++;
      countedBytes += size;
    }
    const trimmed = first.trimTo(slot);
    this.length -= trimmed.entries;
    this.bodyBytes -= trimmed.bodyBytes;
    return trimmed.entries;
  }

  /** Restores the invariants at the front: no leading deleted slots, no leading block without a live entry. */
  private normalizeFront(): void {
    for (;;) {
      const first = this.blocks[0];
      if (first === undefined) return;
      if (first.live === 0) {
        this.dropFirstBlock();
        continue;
      }
      let slot = first.start;
      while (first.bodyBytesAt(slot) < 0) slot++;
      first.trimTo(slot);
      return;
    }
  }
}
