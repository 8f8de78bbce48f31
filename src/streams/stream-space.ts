/**
 * The streams of one store: key → stream, their entry storage on disk, and what a checkpoint
 * records of them (docs/format.md, "Streams in a checkpoint"). The store applies each stream
 * command here in log order (stream-apply.ts), drops a stream when its key is deleted or set
 * to a string, and captures the space, synchronously, beside its key-value snapshot.
 */
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import type { ConsumerGroup } from "./consumer-group.js";
import { EntryStorage } from "./entry-storage.js";
import { decodeGroups, encodeGroups } from "./group-codec.js";
import { checkSavedEntries, type SavedEntries } from "./saved-entries.js";
import { NO_RETENTION, Stream } from "./stream.js";
import { type ApplyContext, type ApplyResult, applyStreamCommand } from "./stream-apply.js";
import type { Retention, StreamCommand } from "./stream-command.js";
import type { StreamId } from "./stream-id.js";

/** Producer IDs a stream remembers for idempotent adds, unless the store is given another window. */
export const DEFAULT_PRODUCER_WINDOW = 10_000;

/** A stream as a checkpoint records it (everything but its entries, which the entry storage records). */
interface SavedStream {
  key: string;
  number: number;
  lastId: StreamId;
  entriesAdded: number;
  maxDeletedId: StreamId;
  retention: Retention;
  /** [producer ID, entry ID] pairs, oldest first. */
  producers: [string, StreamId][];
  /** The consumer groups, encoded (consumer-group codec), base64. */
  groups: string;
}

/** What a checkpoint records of the streams: a JSON-able value (binary strings stay strings). */
export interface SavedStreams {
  format: 1;
  nextNumber: number;
  streams: SavedStream[];
  entries: SavedEntries;
}

export interface StreamSpaceOptions {
  readOnly: boolean;
  producerWindow?: number;
}

export class StreamSpace {
  private readonly streams = new Map<string, Stream>();
  private nextNumber = 1;
  private readonly context: ApplyContext;
  /** Set per apply: the store's answer to "does this key hold a string?". */
  private holdsString: (key: string) => boolean = () => false;

  private constructor(
    private readonly storage: EntryStorage,
    producerWindow: number,
  ) {
    this.context = {
      stream: (key) => this.streams.get(key),
      create: (key) => this.create(key),
      holdsString: (key) => this.holdsString(key),
      producerWindow,
    };
  }

  /** Opens the streams of the store in `directory` as `saved` recorded them (none: a store without a checkpoint of them). */
  static async open(
    fs: FileSystem,
    directory: string,
    saved: SavedStreams | undefined,
    options: StreamSpaceOptions,
  ): Promise<StreamSpace> {
    const entries = saved === undefined ? undefined : checkSavedEntries(saved.entries);
    const storage = await EntryStorage.open(fs, directory, entries, { readOnly: options.readOnly });
    const space = new StreamSpace(storage, options.producerWindow ?? DEFAULT_PRODUCER_WINDOW);
    if (saved !== undefined) space.restore(saved);
    return space;
  }

  get size(): number {
    return this.streams.size;
  }

  get(key: string): Stream | undefined {
    return this.streams.get(key);
  }

  keys(): IterableIterator<string> {
    return this.streams.keys();
  }

  /** Bytes of every stream's in-memory entry index. */
  get indexBytes(): number {
    return this.storage.indexBytes;
  }

  /**
   * Applies `command` to the stream at `key`: its result (an ID, a count, a delivery), or the
   * error it ended in, having changed nothing. `holdsString` tells whether a key holds a
   * string value at this point of the log.
   */
  apply(key: string, command: StreamCommand, holdsString: (key: string) => boolean): ApplyResult {
    this.holdsString = holdsString;
    try {
      return applyStreamCommand(this.context, key, command);
    } catch (error) {
      // A command the checks before logging let through and applying refuses: it fails alone,
      // the same way on replay, and the commit it came in goes on.
      return error instanceof LogbookError
        ? error
        : new LogbookError("LOGBOOK_INVALID_ARGUMENT", String(error), { cause: error });
    }
  }

  /** The key was deleted or set to a string: its stream, if any, is gone. Returns whether there was one. */
  drop(key: string): boolean {
    const stream = this.streams.get(key);
    if (stream === undefined) return false;
    this.streams.delete(key);
    this.storage.drop(stream.number);
    return true;
  }

  /** What a checkpoint taken now records; synchronous, so it is consistent with the store's snapshot. */
  capture(): SavedStreams {
    const streams: SavedStream[] = [];
    for (const [key, stream] of this.streams) {
      streams.push({
        key,
        number: stream.number,
        lastId: stream.lastId,
        entriesAdded: stream.entriesAdded,
        maxDeletedId: stream.maxDeletedId,
        retention: stream.retention,
        producers: [...stream.producers],
        groups: Buffer.from(encodeGroups([...stream.groups.values()])).toString("base64"),
      });
    }
    return { format: 1, nextNumber: this.nextNumber, streams, entries: this.storage.capture() };
  }

  /** Makes the entries `saved` records durable (what was appended since the last checkpoint). */
  persist(saved: SavedStreams): Promise<void> {
    return this.storage.persist(saved.entries);
  }

  /** Deletes entry files that none of `kept` (the checkpoints the manifest still names) needs. */
  release(kept: readonly SavedStreams[]): Promise<void> {
    return this.storage.release(kept.map((s) => s.entries));
  }

  close(): Promise<void> {
    return this.storage.close();
  }

  private create(key: string): Stream {
    const stream = new Stream(this.nextNumber++, this.storage.entries(this.nextNumber - 1));
    this.streams.set(key, stream);
    return stream;
  }

  private restore(saved: SavedStreams): void {
    this.nextNumber = saved.nextNumber;
    for (const s of saved.streams) {
      const stream = new Stream(s.number, this.storage.entries(s.number));
      stream.lastId = s.lastId;
      stream.entriesAdded = s.entriesAdded;
      stream.maxDeletedId = s.maxDeletedId;
      const r = s.retention;
      stream.retention = r.maxLength === 0 && r.maxBytes === 0 && r.maxAgeMs === 0 ? NO_RETENTION : r;
      for (const [producer, id] of s.producers) stream.producers.set(producer, id);
      for (const group of decodeGroups(Buffer.from(s.groups, "base64"))) stream.groups.set(group.name, group as ConsumerGroup);
      this.streams.set(s.key, stream);
    }
  }
}
