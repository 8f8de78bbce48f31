/**
 * Where the entries of a store's streams live: bodies in shared append-only data segment files
 * (docs/format.md, "Stream data segments"), a compact index per stream in memory, and per data
 * file an index file that lists its records ("Stream index files").
 *
 * Appends happen at apply time, after the store's log made the command durable: they are copied
 * to the write-behind buffer and reach the files in the background, unsynced, and their index
 * rows are kept in memory. A checkpoint `capture`s the state synchronously, `persist`s it
 * (fdatasyncs the data files written since the last persist and appends the new rows to the
 * index files, so its cost follows the new data), and the store installs it. At open, data and
 * index rows past the checkpoint are cut (the store replays them from its log) and the indexes
 * are loaded from the index files, or rebuilt from the data files that have none. Files no kept
 * checkpoint needs are removed by `release`.
 */
import { asDiskError, LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { DataFiles } from "./data-files.js";
import { DATA_FILE_HEADER_BYTES, encodeFileHeader, encodeRecord, RECORD_HEADER_BYTES } from "./data-format.js";
import { IndexFiles } from "./index-files.js";
import { checkDataEnd, rebuildIndexes } from "./index-rebuild.js";
import { IndexRows } from "./index-rows.js";
import type { SavedEntries, SavedStream } from "./saved-entries.js";
import { type EntrySink, StoredStreamEntries, type StreamEntries } from "./stream-entries.js";
import type { StreamId } from "./stream-id.js";
import { StreamIndex } from "./stream-index.js";
import { WriteBehind } from "./write-behind.js";

/** A data file is closed for appends once the next record would take it past this. */
export const DATA_SEGMENT_BYTES_DEFAULT = 64 * 1024 * 1024;
/** Stream numbers are u32. */
const STREAM_NUMBER_MAX = 0xffffffff;

export interface EntryStorageOptions {
  readOnly: boolean;
  segmentBytes?: number;
}

export class EntryStorage implements EntrySink {
  private readonly streams = new Map<number, StoredStreamEntries>();
  readonly buffer: WriteBehind;
  /** Start of the file appends go to, and its size so far (undefined: the next append begins a file). */
  private fileStart: number | undefined;
  private fileBytes = 0;
  /** Index rows of the records appended since the last capture. */
  private readonly rows = new IndexRows();

  private constructor(
    readonly files: DataFiles,
    private readonly indexFiles: IndexFiles,
    end: number,
    private readonly readOnly: boolean,
    private readonly segmentBytes: number,
  ) {
    this.buffer = new WriteBehind(end, readOnly ? undefined : (position, bytes) => files.write(position, bytes));
    const last = files.starts[files.starts.length - 1];
    // A file without an index file listing it from its first record takes no more records:
    // the next one begins a file that has one.
    if (last !== undefined && indexFiles.recordedBytes(last) !== undefined) {
      this.fileStart = last;
      this.fileBytes = end - last;
    }
  }

  /**
   * Opens the stream data in `directory` (the store's `streams/`) as of checkpoint `saved`
   * (undefined: no checkpoint, so no stream data is kept). Unless read-only, cuts the data
   * past the checkpoint's end. The directory is created with the first data file.
   */
  static async open(
    fs: FileSystem,
    directory: string,
    saved: SavedEntries | undefined,
    options: EntryStorageOptions,
  ): Promise<EntryStorage> {
    const segmentBytes = options.segmentBytes ?? DATA_SEGMENT_BYTES_DEFAULT;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes < DATA_FILE_HEADER_BYTES + RECORD_HEADER_BYTES) {
      throw new LogbookError(
        "LOGBOOK_INVALID_OPTION",
        `segmentBytes must be an integer of at least ${DATA_FILE_HEADER_BYTES + RECORD_HEADER_BYTES}`,
      );
    }
    const end = saved?.endPosition ?? 0;
    try {
      const files = await DataFiles.open(fs, directory, options.readOnly);
      if (options.readOnly) files.forgetFrom(end);
      else await files.truncateFrom(end);
      await checkDataEnd(files, end);
      const indexFiles = await IndexFiles.open(fs, directory, saved?.indexes ?? [], files.starts, options.readOnly);
      const indexes =
        saved === undefined ? new Map<number, StreamIndex>() : (await rebuildIndexes(files, indexFiles, saved)).indexes;
      const storage = new EntryStorage(files, indexFiles, end, options.readOnly, segmentBytes);
      for (const [number, index] of indexes) storage.streams.set(number, new StoredStreamEntries(number, index, storage));
      return storage;
    } catch (error) {
      throw asDiskError(error, `opening stream data in ${directory}`, { file: directory });
    }
  }

  /** The entries of the stream numbered `stream` (restored from the checkpoint, or new and empty). */
  entries(stream: number): StreamEntries {
    if (!Number.isInteger(stream) || stream < 0 || stream > STREAM_NUMBER_MAX) throw new TypeError("a stream number is a u32");
    let entries = this.streams.get(stream);
    if (entries === undefined) {
      entries = new StoredStreamEntries(stream, new StreamIndex(), this);
      this.streams.set(stream, entries);
    }
    return entries;
  }

  /** A stream's entries are gone (its key was deleted or overwritten); its bytes become garbage. */
  drop(stream: number): void {
    const entries = this.streams.get(stream);
    if (entries === undefined) return;
    entries.dropped = true;
    this.streams.delete(stream);
  }

  /** What a checkpoint taken now records (synchronous: the state between two applied commands). */
  capture(): SavedEntries {
    const endPosition = this.buffer.endPosition;
    const marked = new Uint8Array(this.files.starts.length);
    const streams: SavedStream[] = [];
    for (const number of [...this.streams.keys()].sort((a, b) => a - b)) {
      const index = (this.streams.get(number) as StoredStreamEntries).index;
      const state = index.state();
      index.spans((first, last) => marked.fill(1, this.files.indexOf(first), this.files.indexOf(last) + 1));
      streams.push({
        stream: number,
        firstPosition: state.firstPosition ?? endPosition,
        skipped: state.skipped,
        length: state.length,
        bodyBytes: state.bodyBytes,
        deleted: state.deleted,
      });
    }
    const files = this.files.starts.filter((_, i) => marked[i] === 1);
    const indexes = this.indexFiles.capture(this.rows.take(), this.files.starts);
    return { endPosition, files, streams, indexes };
  }

  /**
   * Makes the data `saved` names durable: writes it out, fdatasyncs the files written since the
   * last persist, and appends the captured index rows to the index files.
   */
  async persist(saved: SavedEntries): Promise<void> {
    if (this.readOnly) throw new LogbookError("LOGBOOK_READ_ONLY", "stream data opened read-only is not persisted");
    try {
      await this.buffer.flushedTo(saved.endPosition);
      await this.files.sync(saved.endPosition);
      await this.indexFiles.persist(saved.indexes ?? []);
    } catch (error) {
      throw asDiskError(error, "persisting stream data", { file: this.files.directory });
    }
  }

  /**
   * Removes the data files none of `kept` needs (the checkpoints the manifest still names): a
   * file wholly below each one's end that holds none of its entries. The file appends go to stays.
   */
  async release(kept: readonly SavedEntries[]): Promise<void> {
    if (this.readOnly || kept.length === 0) return;
    const referenced = kept.map((saved) => new Set(saved.files));
    const starts = this.files.starts;
    const unneeded = starts.filter((start, i) => {
      const end = starts[i + 1];
      if (end === undefined) return false;
      return kept.every((saved, k) => end <= saved.endPosition && !(referenced[k] as Set<number>).has(start));
    });
    try {
      // A crash before the directory sync may bring a name back: its file holds only garbage, which
      // the next release removes; an index file whose data file is gone is removed at open.
      for (const start of unneeded) {
        await this.indexFiles.unlink(start);
        await this.files.unlink(start);
      }
      await this.files.sync(0);
    } catch (error) {
      throw asDiskError(error, "removing stream data files", { file: this.files.directory });
    }
  }

  /** Waits for the write in flight, then closes the files; unpersisted data is left to the log's replay. */
  async close(): Promise<void> {
    await this.buffer.stop();
    await this.files.close();
  }

  /** Memory of all indexes, bytes. */
  get indexBytes(): number {
    let bytes = 0;
    for (const entries of this.streams.values()) bytes += entries.index.bytes;
    return bytes;
  }

  /** Bytes appended but not yet written to the files. */
  get bufferedBytes(): number {
    return this.buffer.bufferedBytes;
  }

  /**
   * Resolves once at most `bytesMax` appended bytes are held only in memory (at once when
   * fewer are): appends are synchronous, so the store waits here before logging more of them.
   */
  bufferedAtMost(bytesMax: number): Promise<void> {
    if (this.readOnly || this.buffer.bufferedBytes <= bytesMax) return Promise.resolve();
    return this.buffer.flushedTo(this.buffer.endPosition - bytesMax);
  }

  appendRecord(stream: number, id: StreamId, body: Uint8Array): number {
    const bytes = RECORD_HEADER_BYTES + body.byteLength;
    if (this.fileStart === undefined || (this.fileBytes + bytes > this.segmentBytes && this.fileBytes > DATA_FILE_HEADER_BYTES)) {
      this.beginFile();
    }
    const position = this.buffer.endPosition;
    const { target, at } = this.buffer.reserve(bytes);
    encodeRecord(target, at, stream, id, body);
    if (!this.readOnly) this.rows.add(this.fileStart as number, stream, id, position, body.byteLength);
    this.fileBytes += bytes;
    return position;
  }

  private beginFile(): void {
    this.buffer.seal();
    const start = this.buffer.endPosition;
    this.files.begin(start);
    const { target, at } = this.buffer.reserve(DATA_FILE_HEADER_BYTES);
    encodeFileHeader(target, at, start);
    this.fileStart = start;
    this.fileBytes = DATA_FILE_HEADER_BYTES;
  }
}
