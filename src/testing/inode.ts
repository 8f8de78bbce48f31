/**
 * One file of the simulated disk: what a reader sees now (`data` up to `size`, the page cache)
 * and what would survive a power cut (`durable` up to `durableSize`, the media).
 * Invariant: the bytes of `data` past `size` are zero, so that growing a file shows zeros.
 */
export const SECTOR_BYTES = 512;

export class Inode {
  data: Uint8Array;
  size: number;
  durable: Uint8Array;
  durableSize: number;
  /** Sectors written since the last datasync. */
  dirty = new Set<number>();
  /** Each sector's durable bytes before its latest write-back: what a lost write reverts it to. */
  beforeWriteBack = new Map<number, Uint8Array>();

  constructor(data = new Uint8Array(0), size = 0) {
    this.data = data;
    this.size = size;
    this.durable = data.slice(0, size);
    this.durableSize = size;
  }

  ensure(bytes: number): void {
    if (bytes <= this.data.byteLength) return;
    const grown = new Uint8Array(Math.max(bytes, this.data.byteLength * 2));
    grown.set(this.data.subarray(0, this.size));
    this.data = grown;
  }

  /** Writes `bytes` at `position` into the cache, marking the sectors it touches dirty. */
  store(bytes: Uint8Array, position: number): void {
    const end = position + bytes.byteLength;
    this.ensure(end);
    this.data.set(bytes, position);
    this.size = Math.max(this.size, end);
    for (let sector = Math.floor(position / SECTOR_BYTES); sector * SECTOR_BYTES < end; sector++) this.dirty.add(sector);
  }

  /**
   * Sets the size a reader sees, as ftruncate does: bytes cut off are zeroed, so that growing the
   * file again shows zeros, and the sectors between the two sizes are dirty, so that the zeros
   * (not older durable bytes) are what the next datasync makes durable.
   */
  resize(sizeBytes: number): void {
    const low = Math.min(sizeBytes, this.size);
    const high = Math.max(sizeBytes, this.size);
    if (sizeBytes < this.size) this.data.fill(0, sizeBytes, this.size);
    else this.ensure(sizeBytes);
    for (let sector = Math.floor(low / SECTOR_BYTES); sector * SECTOR_BYTES < high; sector++) this.dirty.add(sector);
    this.size = sizeBytes;
  }
}
