/**
 * The data segment files of a storage directory, by start position: which exist, a bounded
 * cache of open handles, and the disk steps on them (create, write, read, sync, truncate,
 * unlink). Positions are global: the file named `data-<S>.seg` holds positions [S, S + size).
 * Files are contiguous when written; a released file leaves a gap, which nothing refers to.
 */
import { dirname, join } from "node:path";
import { assert } from "../assert.js";
import { asDiskError, errnoCode } from "../errors.js";
import type { FileHandle, FileSystem } from "../io/index.js";
import { dataFileName, dataFileStart } from "./data-format.js";

/** Handles kept open at once (reads beyond this close the least recently used idle one). */
export const OPEN_DATA_FILES_MAX = 32;

interface CachedHandle {
  handle: Promise<FileHandle>;
  users: number;
  /** Close once the last user is done (evicted or unlinked while in use). */
  closing: boolean;
}

export class DataFiles {
  /** Start positions of the files, ascending: the files that exist and the one being begun. */
  readonly starts: number[] = [];
  /** Files that exist on disk (a begun file exists once its first write created it). */
  private readonly created = new Set<number>();
  private readonly handles = new Map<number, CachedHandle>();
  /** Files written since their last datasync. */
  private readonly dirty = new Set<number>();
  /** A name was created or unlinked since the directory's last sync. */
  private namesChanged = false;
  /** The directory exists (it is made, durably, before the first file is created in it). */
  private directoryMade = false;
  /**
   * The error of a failed fdatasync or directory fsync. The kernel may have dropped the pages
   * or names that sync was to make durable and marked them clean, so no later sync can claim
   * them: every sync fails with this from then on, and the next open decides what survived.
   */
  private syncFailure: unknown;

  private constructor(
    private readonly fs: FileSystem,
    readonly directory: string,
    private readonly readOnly: boolean,
  ) {}

  static async open(fs: FileSystem, directory: string, readOnly: boolean): Promise<DataFiles> {
    const files = new DataFiles(fs, directory, readOnly);
    const names = await fs.list(directory);
    files.directoryMade = names.length > 0;
    const starts = names.map(dataFileStart).filter((start): start is number => start !== undefined);
    for (const start of starts.sort((a, b) => a - b)) {
      files.starts.push(start);
      files.created.add(start);
    }
    return files;
  }

  path(start: number): string {
    return join(this.directory, dataFileName(start));
  }

  /** The start of the file holding `position`, or undefined below the first file. */
  fileOf(position: number): number | undefined {
    const index = this.indexOf(position);
    return index < 0 ? undefined : this.starts[index];
  }

  /** Index in `starts` of the last file starting at or before `position` (-1: none). */
  indexOf(position: number): number {
    let low = 0;
    let high = this.starts.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.starts[middle] as number) <= position) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  }

  /** Records that a new file starts at `start` (above every other); created by its first write. */
  begin(start: number): void {
    assert(this.starts.length === 0 || start > (this.starts[this.starts.length - 1] as number), "files begin in order");
    this.starts.push(start);
  }

  /**
   * Creates the directory, made durable by syncing its parent: a store without streams never
   * has one, and a new one's name must survive a power cut before any file in it can.
   */
  private async makeDirectory(): Promise<void> {
    await this.fs.mkdir(this.directory);
    await this.fs.syncDirectory(dirname(this.directory));
    this.directoryMade = true;
  }

  /** Writes bytes at a global position, all inside one file, creating the file on its first write. */
  async write(position: number, bytes: Uint8Array): Promise<void> {
    const start = this.fileOf(position);
    assert(start !== undefined, "a write lands in a begun file");
    try {
      if (!this.created.has(start)) await this.create(start);
      await this.use(start, async (handle) => {
        await handle.write(bytes, position - start);
      });
    } catch (error) {
      throw asDiskError(error, `writing stream data ${this.path(start)}`, { file: this.path(start), offset: position - start });
    } finally {
      // Even a failed write may have stored a prefix, which a sync must not pass over.
      if (this.created.has(start)) this.dirty.add(start);
    }
  }

  /**
   * Creates the file at `start`. A crash, or a failed first write, may leave it empty or with a
   * torn header: it then lies past every installed checkpoint's end, where the next open cuts it
   * unread (truncateFrom).
   */
  private async create(start: number): Promise<void> {
    if (!this.directoryMade) await this.makeDirectory();
    // A new name: durable only once persist syncs the directory, which it does before a checkpoint names the bytes.
    const handle = this.fs.open(this.path(start), "create");
    const cached: CachedHandle = { handle, users: 0, closing: false };
    this.handles.set(start, cached);
    try {
      await handle;
    } catch (error) {
      // No file to close; the next use opens afresh.
      if (this.handles.get(start) === cached) this.handles.delete(start);
      throw error;
    }
    this.created.add(start);
    this.namesChanged = true;
  }

  /** Makes the written bytes of files starting below `end`, and the directory's names, durable. */
  async sync(end: number): Promise<void> {
    if (this.syncFailure !== undefined) throw this.syncFailure;
    try {
      for (const start of [...this.dirty].sort((a, b) => a - b)) {
        if (start >= end) continue;
        // Cleared before the sync starts: a write completing after this marks the file again.
        this.dirty.delete(start);
        await this.use(start, (handle) => handle.datasync());
      }
      if (this.namesChanged) {
        this.namesChanged = false;
        await this.fs.syncDirectory(this.directory);
      }
    } catch (error) {
      this.syncFailure = error;
      throw error;
    }
  }

  /**
   * Reads into `buffer` from a global position; resolves the bytes read, or undefined when the
   * file is gone (released while the read was on its way: its entries are gone too).
   */
  async read(start: number, position: number, buffer: Uint8Array): Promise<number | undefined> {
    if (!this.created.has(start)) return undefined;
    try {
      return await this.use(start, (handle) => handle.read(buffer, position - start));
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return undefined;
      throw asDiskError(error, `reading stream data ${this.path(start)}`, { file: this.path(start), offset: position - start });
    }
  }

  async sizeBytes(start: number): Promise<number> {
    return this.use(start, (handle) => handle.sizeBytes());
  }

  /** Cuts the file holding `end` there and removes every file after it (bytes past a checkpoint). */
  async truncateFrom(end: number): Promise<void> {
    assert(!this.readOnly, "a read-only storage changes no file");
    while (this.starts.length > 0 && (this.starts[this.starts.length - 1] as number) >= end) {
      await this.unlink(this.starts[this.starts.length - 1] as number);
    }
    const last = this.starts[this.starts.length - 1];
    if (last !== undefined && (await this.sizeBytes(last)) > end - last) {
      await this.use(last, async (handle) => {
        await handle.truncate(end - last);
        await handle.datasync();
      });
    }
    await this.sync(0);
  }

  /** Read-only: leaves the files at and past `end` alone but out of sight (their bytes are past the checkpoint). */
  forgetFrom(end: number): void {
    while (this.starts.length > 0 && (this.starts[this.starts.length - 1] as number) >= end) {
      this.created.delete(this.starts.pop() as number);
    }
  }

  /** Removes a file: its handle closes once idle; its name is durably gone after the next sync. */
  async unlink(start: number): Promise<void> {
    const index = this.starts.indexOf(start);
    assert(index >= 0, "an unlinked file is known");
    this.starts.splice(index, 1);
    this.dirty.delete(start);
    this.evict(start);
    if (!this.created.delete(start)) return;
    await this.fs.unlink(this.path(start));
    this.namesChanged = true;
  }

  async close(): Promise<void> {
    for (const start of [...this.handles.keys()]) this.evict(start);
  }

  private async use<T>(start: number, action: (handle: FileHandle) => Promise<T>): Promise<T> {
    let cached = this.handles.get(start);
    if (cached === undefined || cached.closing) {
      cached = { handle: this.fs.open(this.path(start), this.readOnly ? "read" : "write"), users: 0, closing: false };
      this.handles.set(start, cached);
      this.evictIdle();
    } else {
      // Most recently used last.
      this.handles.delete(start);
      this.handles.set(start, cached);
    }
    cached.users++;
    try {
      return await action(await cached.handle);
    } catch (error) {
      if (this.handles.get(start) === cached) this.handles.delete(start);
      cached.closing = true;
      throw error;
    } finally {
      cached.users--;
      if (cached.closing && cached.users === 0) closeQuietly(cached.handle);
    }
  }

  private evictIdle(): void {
    for (const [start, cached] of this.handles) {
      if (this.handles.size <= OPEN_DATA_FILES_MAX) return;
      if (cached.users === 0) this.evict(start);
    }
  }

  private evict(start: number): void {
    const cached = this.handles.get(start);
    if (cached === undefined) return;
    this.handles.delete(start);
    cached.closing = true;
    if (cached.users === 0) closeQuietly(cached.handle);
  }
}

/** Closes a handle nobody uses any more; a failed open or close changes nothing for its users, who saw the error. */
function closeQuietly(handle: Promise<FileHandle>): void {
  handle.then(
    (opened) => opened.close().catch(() => undefined),
    () => undefined,
  );
}
