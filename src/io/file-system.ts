/**
 * The one small interface through which the log and the store touch the disk. The real
 * implementation is NodeFileSystem; tests substitute a simulated disk that loses
 * un-fsynced data, tears writes and fails fsync. Keep it small: every method here is a
 * method the simulator has to model faithfully.
 *
 * Contract (what the log relies on, and what a simulated disk must reproduce):
 * - `write` writes all of `data` at `position` or throws; a failure may leave any part of it written.
 * - Data written is durable only after `datasync` (or `write` with `datasync: true`) returns.
 * - A created, renamed or unlinked name is durable only after `syncDirectory` of its directory.
 * - Errors are platform errors carrying an errno `code` (`EIO`, `ENOSPC`, `ENOENT`…).
 * test/io/file-system-conformance.ts states this contract as tests, run against every implementation.
 */
export type OpenMode =
  /** read only; the file must exist */
  | "read"
  /** read and write; the file must exist */
  | "write"
  /** read and write; the file must not exist yet */
  | "create";

export interface WriteOptions {
  /** Make the data durable before resolving, as one operation (write then fdatasync). */
  datasync?: boolean;
}

export interface FileHandle {
  readonly path: string;
  /**
   * The OS file descriptor, when this process may write and fdatasync it from another thread
   * with src/io/sync-ops.ts (the log's writer thread does). Absent on a simulated disk: the
   * log then commits through `write` and `datasync` on the main thread instead.
   */
  readonly descriptor?: number;
  /** Reads up to `buffer.length` bytes at `position`; resolves the number read (short only at end of file). */
  read(buffer: Uint8Array, position: number): Promise<number>;
  write(data: Uint8Array, position: number, options?: WriteOptions): Promise<void>;
  datasync(): Promise<void>;
  sizeBytes(): Promise<number>;
  truncate(sizeBytes: number): Promise<void>;
  close(): Promise<void>;
}

export interface DirectoryLock {
  release(): Promise<void>;
}

export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<FileHandle>;
  /** Names (not paths) in a directory; an empty list when it does not exist. */
  list(directory: string): Promise<string[]>;
  /** Creates a directory and its parents; durable once its parent is synced. */
  mkdir(directory: string): Promise<void>;
  rename(fromPath: string, toPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  syncDirectory(directory: string): Promise<void>;
  /**
   * Takes the single-writer lock of a directory, or throws LOGBOOK_LOCKED. A lock held by a
   * process that died must not block the next one.
   */
  lockDirectory(directory: string): Promise<DirectoryLock>;
  /** Releases resources the implementation holds (a writer thread); handles must be closed first. */
  close?(): Promise<void>;
}
