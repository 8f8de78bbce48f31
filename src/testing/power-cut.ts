/**
 * What a power cut leaves of one file: its durable bytes, and of the sectors written since the
 * last datasync what the crash mode keeps (all of them, none, a prefix, or any subset torn at
 * 512-byte sectors or 4-KiB pages), each sector or page whole.
 */
import { Inode, SECTOR_BYTES } from "./inode.js";

export type CrashMode = "lose-all" | "keep-all" | "torn-512" | "prefix" | "torn-4096";
export const CRASH_MODES: readonly CrashMode[] = ["lose-all", "keep-all", "torn-512", "prefix", "torn-4096"];

const PAGE_BYTES = 4096;

export interface CrashReport {
  filesTorn: number;
  sectorsKept: number;
  sectorsLost: number;
  namesLost: number;
}

/** The crash mode a draw in [0, 1) picks when the caller names none. */
export function crashModeOf(draw: number): CrashMode {
  if (draw < 0.3) return "lose-all";
  if (draw < 0.45) return "keep-all";
  if (draw < 0.75) return "torn-512";
  if (draw < 0.87) return "prefix";
  return "torn-4096";
}

/** The file as it is after the cut: every byte of it durable. Counts what was kept and lost in `report`. */
export function survivorOf(inode: Inode, mode: CrashMode, random: () => number, report: CrashReport): Inode {
  const after = new Inode(inode.durable.slice(0, inode.durableSize), inode.durableSize);
  after.data = new Uint8Array(Math.max(inode.durableSize, 1));
  after.data.set(inode.durable.subarray(0, inode.durableSize));
  const sectors = [...inode.dirty].sort((a, b) => a - b);
  const keeps = sectorsKept(sectors, mode, random);
  for (const [index, sector] of sectors.entries()) {
    if (!keeps(index, sector)) {
      report.sectorsLost++;
      continue;
    }
    report.sectorsKept++;
    const start = sector * SECTOR_BYTES;
    const end = Math.min(start + SECTOR_BYTES, inode.size);
    if (end <= start) continue;
    after.ensure(end);
    after.data.set(inode.data.subarray(start, end), start);
    after.size = Math.max(after.size, end);
  }
  if (inode.dirty.size > 0) report.filesTorn++;
  after.durable = after.data.slice(0, after.size);
  after.durableSize = after.size;
  return after;
}

/**
 * Whether the cut keeps each dirty sector, asked in ascending order of `sectors`. Draws from
 * `random` as it is asked, so the order of the questions is part of a seed's replay.
 */
function sectorsKept(
  sectors: readonly number[],
  mode: CrashMode,
  random: () => number,
): (index: number, sector: number) => boolean {
  switch (mode) {
    case "lose-all":
      return () => false;
    case "keep-all":
      return () => true;
    case "prefix": {
      const prefixEnd = Math.floor(random() * (sectors.length + 1));
      return (index) => index < prefixEnd;
    }
    case "torn-4096": {
      const pages = new Map<number, boolean>();
      return (_index, sector) => {
        const page = Math.floor((sector * SECTOR_BYTES) / PAGE_BYTES);
        if (!pages.has(page)) pages.set(page, random() < 0.5);
        return pages.get(page) as boolean;
      };
    }
    case "torn-512":
      return () => random() < 0.5;
  }
}
