/**
 * Fault injection for the simulated disk, each fault at a seed-chosen call, as Linux does them.
 *
 * Faults that fail a call (`DISK_FAULTS`):
 * - `fsync-eio`: fdatasync fails with EIO and the dirty pages are dropped from the cache's
 *   accounting: readers still see the data, but it will never become durable, so a retried
 *   fdatasync "succeeds" without it.
 * - `write-eio`: a write fails with EIO and writes nothing.
 * - `write-enospc`: a write stores a seed-chosen prefix of whole sectors, then fails with ENOSPC
 *   (a short write on a full disk).
 * - `read-eio`: a read fails with EIO.
 * Latent faults (`LATENT_FAULTS`), which damage durable bytes without failing any call:
 * - `bit-flip`: one bit of a file's durable bytes flips (media decay); readers see it too
 *   unless the page cache holds a newer write of that sector.
 * - `misdirected-write`: an fdatasync stores one dirty sector over an earlier sector of the
 *   file instead of where it belongs, which keeps its old bytes. Readers see nothing wrong
 *   until the cache is gone (a power cut).
 * - `lost-write`: an fdatasync reports success but one sector that an earlier fdatasync wrote
 *   back, before everything this one writes, reverts to what it held before that write-back (a
 *   device cache that lost a write it had acknowledged). Later data of the file is durable, so
 *   the loss is provable. Readers see nothing wrong until the cache is gone.
 *
 * Every choice draws from the disk's one seeded sequence, in a fixed order, so a seed replays.
 */
import { type Inode, SECTOR_BYTES } from "./inode.js";

export type DiskFault = "fsync-eio" | "write-eio" | "write-enospc" | "read-eio" | "bit-flip" | "misdirected-write" | "lost-write";
/** Faults that fail a call: the code sees an error. */
export const DISK_FAULTS: readonly DiskFault[] = ["fsync-eio", "write-eio", "write-enospc", "read-eio"];
/** Faults that damage durable bytes silently: only checksums can see them. */
export const LATENT_FAULTS: readonly DiskFault[] = ["bit-flip", "misdirected-write", "lost-write"];

/** A count of zero for every kind of fault. */
export function noFaults(): Record<DiskFault, number> {
  return Object.fromEntries([...DISK_FAULTS, ...LATENT_FAULTS].map((kind) => [kind, 0])) as Record<DiskFault, number>;
}

/** The system calls each fault can strike. */
const FAULTS_BY_SYSCALL: Record<string, readonly DiskFault[]> = {
  fdatasync: ["fsync-eio", "misdirected-write", "bit-flip", "lost-write"],
  write: ["write-eio", "write-enospc", "bit-flip"],
  read: ["read-eio", "bit-flip"],
};

/** Where a latent fault hit durable bytes. */
export interface LatentDamage {
  kind: DiskFault;
  path: string;
  offset: number;
}

/** A sector written over an earlier one: `from` keeps its old durable bytes, `to` gets `from`'s. */
export interface Misdirection {
  from: number;
  to: number;
}

export class FaultInjector {
  private probability = 0;
  private kinds = new Set<DiskFault>();
  /** Faults injected so far, by kind. */
  readonly injected: Record<DiskFault, number> = noFaults();
  /** Where latent faults hit durable bytes, in order. */
  readonly latentDamage: LatentDamage[] = [];

  /** `announce` is told of every fault injected, with where it struck. */
  constructor(
    private readonly random: () => number,
    private readonly announce: (kind: DiskFault, where: string) => void,
  ) {}

  /** From now on, each call of a matching kind fails with this probability (0: never). */
  inject(probability: number, kinds: readonly DiskFault[]): void {
    this.probability = probability;
    this.kinds = new Set(kinds);
  }

  /**
   * Whether the call about to run fails, and how. A bit flip strikes one of `durableFiles` at
   * once and lets the call go on; a misdirected or lost write is the fdatasync's to apply.
   */
  draw(syscall: string, durableFiles: ReadonlyMap<string, Inode>): DiskFault | undefined {
    if (this.probability === 0) return undefined;
    const candidates = FAULTS_BY_SYSCALL[syscall]?.filter((kind) => this.kinds.has(kind));
    if (candidates === undefined || candidates.length === 0 || this.random() >= this.probability) return undefined;
    const kind = candidates[Math.floor(this.random() * candidates.length)] as DiskFault;
    if (kind === "bit-flip") {
      this.flipBit(durableFiles);
      return undefined;
    }
    // A misdirected or lost write is counted when the fdatasync finds a sector to do it to.
    if (kind !== "misdirected-write" && kind !== "lost-write") this.count(kind, "");
    return kind;
  }

  /** How many whole sectors of a write of `bytes` a full disk stores before it fails with ENOSPC. */
  shortWriteBytes(bytes: number): number {
    const sectors = Math.floor(bytes / SECTOR_BYTES);
    return Math.floor(this.random() * (sectors + 1)) * SECTOR_BYTES;
  }

  /** Flips one bit in the written part of a file's durable bytes, as decaying media would. */
  private flipBit(durableFiles: ReadonlyMap<string, Inode>): boolean {
    const candidates = [...durableFiles].filter(([, inode]) => inode.durableSize > 0).sort(([a], [b]) => (a < b ? -1 : 1));
    if (candidates.length === 0) return false;
    const [path, inode] = candidates[Math.floor(this.random() * candidates.length)] as [string, Inode];
    let written = inode.durableSize;
    while (written > 0 && inode.durable[written - 1] === 0) written--;
    if (written === 0) return false;
    const offset = Math.floor(this.random() * written);
    const mask = 1 << Math.floor(this.random() * 8);
    inode.durable[offset] = (inode.durable[offset] as number) ^ mask;
    // The cache holds the media's bytes unless a newer write of that sector is waiting in it.
    if (!inode.dirty.has(Math.floor(offset / SECTOR_BYTES)) && offset < inode.size) {
      inode.data[offset] = (inode.data[offset] as number) ^ mask;
    }
    this.latentDamage.push({ kind: "bit-flip", path, offset });
    this.count("bit-flip", ` (${path} byte ${offset})`);
    return true;
  }

  /** For a misdirected write: which of the sorted dirty `sectors` lands where, if one lies before them all. */
  misdirect(sectors: readonly number[]): Misdirection | undefined {
    const lowest = sectors[0] ?? 0;
    if (lowest === 0) return undefined;
    return {
      from: sectors[Math.floor(this.random() * sectors.length)] as number,
      to: Math.floor(this.random() * lowest),
    };
  }

  /** Stores the misdirected sector's cached bytes over sector `to` of the `durable` image. */
  applyMisdirection(path: string, inode: Inode, durable: Uint8Array, misdirected: Misdirection): void {
    const start = misdirected.from * SECTOR_BYTES;
    const bytes = inode.data.subarray(start, Math.min(start + SECTOR_BYTES, inode.size));
    durable.set(bytes, misdirected.to * SECTOR_BYTES);
    this.latentDamage.push({ kind: "misdirected-write", path, offset: start });
    this.count("misdirected-write", ` (${path} sector ${misdirected.from} written at ${misdirected.to})`);
  }

  /** The lost-write fault: a sector written back before `below` reverts to its bytes before that write-back. */
  loseEarlierWriteBack(path: string, inode: Inode, durable: Uint8Array, below: number): void {
    const candidates = [...inode.beforeWriteBack.keys()].filter((sector) => sector < below).sort((a, b) => a - b);
    if (candidates.length === 0) return;
    const sector = candidates[Math.floor(this.random() * candidates.length)] as number;
    const before = inode.beforeWriteBack.get(sector) as Uint8Array;
    const start = sector * SECTOR_BYTES;
    durable.fill(0, start, Math.min(start + SECTOR_BYTES, durable.byteLength));
    durable.set(before.subarray(0, Math.max(0, Math.min(before.byteLength, durable.byteLength - start))), start);
    inode.beforeWriteBack.delete(sector);
    this.latentDamage.push({ kind: "lost-write", path, offset: start });
    this.count("lost-write", ` (${path} sector ${sector} reverted)`);
  }

  private count(kind: DiskFault, where: string): void {
    this.injected[kind]++;
    this.announce(kind, where);
  }
}
