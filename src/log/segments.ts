/**
 * The segment files of one log: the list of sealed ones, the active one being appended to,
 * rotation, the preallocated spare, and retention. Every change of a name on disk is followed
 * by a directory fsync before anything that depends on it is acknowledged.
 */
import { join } from "node:path";
import { assert } from "../assert.js";
import type { Clock, FileHandle, FileSystem } from "../io/index.js";
import { SPARE_SEGMENT_NAME, SPARE_SEGMENT_TEMPORARY_NAME } from "./format.js";
import { encodeSegmentHeader, frameSeedOf, segmentName } from "./segment-header.js";
import { writeZeros } from "./zero-fill.js";

/**
 * The spare is zero-filled once the active segment is this full, not at once: zero-filling a
 * whole segment, with an fdatasync per MiB, competes for the disk with a fresh log's first
 * writes, and most of a segment's life is still left for it.
 */
const SPARE_AFTER_FILL = 0.25;

export interface SegmentInfo {
  firstLsn: number;
  name: string;
  path: string;
}

export interface SegmentSetConfig {
  fs: FileSystem;
  directory: string;
  logId: Uint8Array;
  segmentBytes: number;
  preallocate: boolean;
  clock: Clock;
}

export class SegmentSet {
  /** Oldest first; the last one is the active segment. */
  private readonly list: SegmentInfo[];
  private activeHandle: FileHandle;
  /** The active segment's frame seed: every frame written into it is bound to its header (format.md, "Frame"). */
  private activeSeed: number;
  /** A zero-filled file being prepared (or ready) to become the next segment. */
  private spare: Promise<boolean> | undefined;
  private spareIsReady = false;
  rotations = 0;

  constructor(
    private readonly config: SegmentSetConfig,
    segments: SegmentInfo[],
    activeHandle: FileHandle,
    activeFrameSeed: number,
    /** A complete spare from an earlier run is on disk (recovery keeps it). */
    spareOnDisk = false,
  ) {
    assert(segments.length >= 1, "a log has an active segment");
    this.list = segments;
    this.activeHandle = activeHandle;
    this.activeSeed = activeFrameSeed;
    if (spareOnDisk) {
      this.spareIsReady = true;
      this.spare = Promise.resolve(true);
    }
  }

  get segments(): readonly SegmentInfo[] {
    return this.list;
  }

  get active(): SegmentInfo {
    const active = this.list[this.list.length - 1];
    assert(active !== undefined, "a log has an active segment");
    return active;
  }

  get handle(): FileHandle {
    return this.activeHandle;
  }

  get activeFrameSeed(): number {
    return this.activeSeed;
  }

  /** Whether a zero-filled spare is ready for the next rotation. */
  get spareReady(): boolean {
    return this.spareIsReady;
  }

  get firstLsn(): number {
    return this.list[0]?.firstLsn ?? 1;
  }

  /**
   * Starts a new active segment whose first record is `firstLsn`. The old segment is
   * fdatasynced first: in sync modes `interval` and `none` it may still hold unsynced frames.
   */
  async rotate(firstLsn: number): Promise<void> {
    const { fs, directory } = this.config;
    const previous = this.active;
    await this.activeHandle.datasync();
    const name = segmentName(firstLsn);
    const path = join(directory, name);
    const handle = await this.takeSpare(path);
    const header = encodeSegmentHeader({
      logId: this.config.logId,
      firstLsn,
      previousFirstLsn: previous.firstLsn,
      createdAtMs: this.config.clock.wallMs(),
    });
    try {
      // A crash before this write is durable leaves a segment with no valid header and no
      // record: recovery sets it aside, since nothing in it was ever acknowledged.
      await handle.write(header, 0, { datasync: true });
      // The new name is not durable until its directory is; records in it are acknowledged only after this.
      await fs.syncDirectory(directory);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
    await this.activeHandle.close();
    this.activeHandle = handle;
    this.activeSeed = frameSeedOf(header);
    this.list.push({ firstLsn, name, path });
    this.rotations++;
  }

  /** Told how far the active segment is written: starts the spare once it is filling up. */
  noteActiveBytes(position: number): void {
    if (this.config.preallocate && this.spare === undefined && position >= this.config.segmentBytes * SPARE_AFTER_FILL) {
      this.prepareSpare();
    }
  }

  /**
   * Removes whole segments whose records all precede `lsn`; the active segment always stays.
   * Returns how many were removed. With preallocation on, one removed segment is kept as the
   * spare instead of writing a new one full of zeros (its old frames were bound to its old
   * header, so they do not check as frames of the segment it becomes: format.md, "Frame").
   */
  async truncateBefore(lsn: number): Promise<number> {
    let removable = 0;
    while (removable + 1 < this.list.length && (this.list[removable + 1]?.firstLsn ?? 0) <= lsn) removable++;
    if (removable === 0) return 0;
    const removed = this.list.splice(0, removable);
    // The spare is claimed before the first await, so that no zero-filling starts meanwhile.
    const recycled = this.config.preallocate && this.spare === undefined ? removed[0] : undefined;
    const freed = this.freeSegments(removed, recycled);
    if (recycled !== undefined) {
      // Ready only once its new name is durable: a rotation writes a new header into the spare,
      // and a power cut before the rename is durable would bring that header back under the
      // name of the segment it was, which recovery must then refuse.
      this.spare = freed.then(
        () => {
          this.spareIsReady = true;
          return true;
        },
        () => false,
      );
    }
    await freed;
    return removed.length;
  }

  async close(): Promise<void> {
    await this.spare?.catch(() => false);
    await this.activeHandle.close();
  }

  /** Renames `recycled` (one of `removed`) to the spare and unlinks the others, then syncs their directory. */
  private async freeSegments(removed: readonly SegmentInfo[], recycled: SegmentInfo | undefined): Promise<void> {
    const { fs, directory } = this.config;
    for (const segment of removed) {
      if (segment === recycled) await fs.rename(segment.path, join(directory, SPARE_SEGMENT_NAME));
      else await fs.unlink(segment.path);
    }
    // Freed names must not reappear after a power cut once truncation has been reported.
    await fs.syncDirectory(directory);
  }

  private async takeSpare(path: string): Promise<FileHandle> {
    const { fs, directory } = this.config;
    const ready = this.spare === undefined ? false : await this.spare.catch(() => false);
    this.spare = undefined;
    if (ready && this.spareIsReady) {
      this.spareIsReady = false;
      await fs.rename(join(directory, SPARE_SEGMENT_NAME), path);
      return fs.open(path, "write");
    }
    // No spare: a fresh file that grows as it is written (and each fdatasync also commits its size).
    return fs.open(path, "create");
  }

  /** Zero-fills the spare in the background; a failure only means the next rotation starts a growing file. */
  private prepareSpare(): void {
    if (this.spare !== undefined) return;
    this.spare = this.writeSpare().then(
      () => {
        this.spareIsReady = true;
        return true;
      },
      () => false,
    );
  }

  private async writeSpare(): Promise<void> {
    const { fs, directory, segmentBytes } = this.config;
    const path = join(directory, SPARE_SEGMENT_TEMPORARY_NAME);
    const names = await fs.list(directory);
    if (names.includes(SPARE_SEGMENT_TEMPORARY_NAME)) await fs.unlink(path);
    const handle = await fs.open(path, "create");
    try {
      // Durable zeros are what make later fdatasyncs data-only.
      await writeZeros(handle, 0, segmentBytes, true);
    } finally {
      await handle.close();
    }
    // Complete: only now may a later open reuse it (an unsynced rename just means zero-filling again).
    await fs.rename(path, join(directory, SPARE_SEGMENT_NAME));
  }
}
