/**
 * The index files of a storage directory (docs/format.md, "Stream index files"): which data
 * files have one that lists their records from the first, how long each is as of the last
 * persist, and the disk steps on them. A checkpoint's `capture` takes the rows appended since
 * the last one and records each index file's length once they are written; `persist` appends
 * them, one chunk per file, and fdatasyncs. So a checkpoint writes what was appended since the
 * previous one, and an open reads the index files instead of the data.
 *
 * At open, an index file is cut to the length the loaded checkpoint records (bytes past it
 * were written by a checkpoint that was never installed, and replay appends their entries
 * again); one the checkpoint does not record, or whose data file is gone, is removed; one
 * shorter than recorded is treated as missing, and its data file is read instead.
 */
import { join } from "node:path";
import { assert } from "../assert.js";
import type { FileSystem } from "../io/index.js";
import { INDEX_CHUNK_HEADER_BYTES, INDEX_ROW_BYTES, indexFileName, indexFileStart, sealChunk } from "./index-format.js";
import type { FileRows } from "./index-rows.js";

/** An index file's length as a checkpoint records it. */
export interface IndexExtent {
  /** The data file's start position. */
  readonly start: number;
  readonly bytes: number;
}

export class IndexFiles {
  /** Durable length of each index file that lists its data file from the first record. */
  private readonly lengths = new Map<number, number>();
  /** Index files that exist on disk. */
  private readonly existing = new Set<number>();
  /** Rows a checkpoint captured that no persist has written yet, by data file. */
  private readonly unpersisted = new Map<number, FileRows>();
  private namesChanged = false;

  private constructor(
    private readonly fs: FileSystem,
    readonly directory: string,
    private readonly readOnly: boolean,
  ) {}

  /**
   * Finds the index files in `directory` and, unless read-only, cuts each to its `recorded`
   * length and removes those that are not recorded or whose data file (`dataStarts`) is gone.
   */
  static async open(
    fs: FileSystem,
    directory: string,
    recorded: readonly IndexExtent[],
    dataStarts: readonly number[],
    readOnly: boolean,
  ): Promise<IndexFiles> {
    const files = new IndexFiles(fs, directory, readOnly);
    const wanted = new Map(recorded.map((extent) => [extent.start, extent.bytes]));
    const data = new Set(dataStarts);
    for (const name of await fs.list(directory)) {
      const start = indexFileStart(name);
      if (start === undefined) continue;
      const bytes = wanted.get(start);
      const size = bytes === undefined || !data.has(start) ? -1 : await files.sizeBytes(start);
      if (bytes === undefined || size < bytes) {
        if (!readOnly) await files.remove(start);
        continue;
      }
      // Bytes past the recorded length: a persist whose checkpoint was never installed.
      if (size > bytes && !readOnly) await files.truncate(start, bytes);
      files.lengths.set(start, bytes);
      files.existing.add(start);
    }
    if (files.namesChanged) await files.syncDirectory();
    return files;
  }

  /** The recorded length of the index file of the data file at `start`, or undefined when it has none to read. */
  recordedBytes(start: number): number | undefined {
    return this.lengths.get(start);
  }

  /** Forgets the index file of the data file at `start` (it did not check): the data is read instead from now on. */
  async forget(start: number): Promise<void> {
    this.lengths.delete(start);
    if (!this.readOnly) {
      await this.remove(start);
      await this.syncDirectory();
    }
  }

  /**
   * Takes `taken` (rows appended since the last capture) into what the next persist writes,
   * and returns the length each index file of `dataStarts` will have once it has: the record a
   * checkpoint keeps.
   */
  capture(taken: readonly FileRows[], dataStarts: readonly number[]): IndexExtent[] {
    for (const rows of taken) {
      const before = this.unpersisted.get(rows.start);
      this.unpersisted.set(rows.start, before === undefined ? rows : joinRows(before, rows));
    }
    const extents: IndexExtent[] = [];
    for (const start of dataStarts) {
      const pending = this.unpersisted.get(start);
      const durable = this.lengths.get(start);
      if (pending === undefined && durable === undefined) continue;
      extents.push({ start, bytes: (durable ?? 0) + (pending === undefined ? 0 : chunkBytes(pending)) });
    }
    return extents;
  }

  /** Appends the captured rows, one chunk per file, and makes them durable with the files' names. */
  async persist(extents: readonly IndexExtent[]): Promise<void> {
    for (const [start, rows] of [...this.unpersisted].sort((a, b) => a[0] - b[0])) {
      const at = this.lengths.get(start) ?? 0;
      const chunk = rows.chunk.subarray(0, chunkBytes(rows));
      assert(
        extents.find((extent) => extent.start === start)?.bytes === at + chunk.byteLength,
        "a persist writes what was captured",
      );
      sealChunk(chunk, rows.rows, start);
      await this.writeChunk(start, at, chunk);
      // Only once durable: a failed write is written again, at the same place, by the next persist.
      this.lengths.set(start, at + chunk.byteLength);
      this.unpersisted.delete(start);
    }
    if (this.namesChanged) await this.syncDirectory();
  }

  /** Removes the index file of a released data file; its name is durably gone after the caller syncs the directory. */
  async unlink(start: number): Promise<void> {
    assert(!this.unpersisted.has(start), "a released data file has no rows waiting");
    this.lengths.delete(start);
    if (this.existing.has(start)) await this.remove(start);
  }

  private path(start: number): string {
    return join(this.directory, indexFileName(start));
  }

  private async writeChunk(start: number, at: number, chunk: Uint8Array): Promise<void> {
    const created = !this.existing.has(start);
    const handle = await this.fs.open(this.path(start), created ? "create" : "write");
    try {
      // A new name: durable once the directory is synced, which persist does before a checkpoint names it.
      if (created) {
        this.existing.add(start);
        this.namesChanged = true;
      }
      await handle.write(chunk, at, { datasync: true });
    } finally {
      await handle.close();
    }
  }

  private async sizeBytes(start: number): Promise<number> {
    const handle = await this.fs.open(this.path(start), "read");
    try {
      return await handle.sizeBytes();
    } finally {
      await handle.close();
    }
  }

  private async truncate(start: number, bytes: number): Promise<void> {
    const handle = await this.fs.open(this.path(start), "write");
    try {
      await handle.truncate(bytes);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  private async remove(start: number): Promise<void> {
    this.existing.delete(start);
    await this.fs.unlink(this.path(start));
    this.namesChanged = true;
  }

  private async syncDirectory(): Promise<void> {
    this.namesChanged = false;
    await this.fs.syncDirectory(this.directory);
  }

  /** Reads the first `bytes` bytes of the index file of the data file at `start`; resolves how many there were. */
  async read(start: number, bytes: Uint8Array): Promise<number> {
    const handle = await this.fs.open(this.path(start), "read");
    try {
      let done = 0;
      while (done < bytes.byteLength) {
        const read = await handle.read(bytes.subarray(done), done);
        if (read === 0) break;
        done += read;
      }
      return done;
    } finally {
      await handle.close();
    }
  }
}

function chunkBytes(rows: FileRows): number {
  return INDEX_CHUNK_HEADER_BYTES + rows.rows * INDEX_ROW_BYTES;
}

/** The rows of `before` then those of `after` (one data file's), as one chunk in the making. */
function joinRows(before: FileRows, after: FileRows): FileRows {
  const chunk = new Uint8Array(chunkBytes(before) + after.rows * INDEX_ROW_BYTES);
  chunk.set(before.chunk.subarray(0, chunkBytes(before)));
  chunk.set(after.chunk.subarray(INDEX_CHUNK_HEADER_BYTES, chunkBytes(after)), chunkBytes(before));
  return { start: before.start, chunk, rows: before.rows + after.rows };
}
