/**
 * The entries of one stream: its in-memory index (stream-index.ts) bound to the storage that
 * holds the bodies (entry-storage.ts). Mutations are synchronous and touch memory only; reads
 * go to the write-behind buffer or the data files.
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";
import { ENTRY_BODY_BYTES_MAX } from "./entry-body.js";
import { type RecordSource, readBodies, readBodyBuffers } from "./record-reads.js";
import { isStreamId, nextId, previousId, type StreamId } from "./stream-id.js";
import type { EntryLocations, StreamIndex } from "./stream-index.js";

/** Entries a scan batch holds at most. */
export const SCAN_BATCH_ENTRIES = 4096;
/** Body bytes a scan batch holds at most (past its first entry). */
export const SCAN_BATCH_BYTES = 1024 * 1024;

export interface StreamEntries {
  /** Live entries (not deleted, not trimmed). */
  readonly length: number;
  /** Bytes of the live entries' bodies. */
  readonly bodyBytes: number;
  readonly firstId: StreamId | undefined;
  readonly lastId: StreamId | undefined;
  /** Adds an entry; `id` is above every ID appended to this stream before. */
  append(id: StreamId, body: Uint8Array): void;
  has(id: StreamId): boolean;
  delete(id: StreamId): boolean;
  /** Live IDs within [from, to] in order (or reverse), at most `count`. */
  ids(from: StreamId, to: StreamId, count: number, reverse: boolean): StreamId[];
  /** Removes the oldest entries past `maxLength` (whole index blocks only when approximate; at most `limit`, 0 for no limit); returns how many. */
  trimToLength(maxLength: number, approximate: boolean, limit: number): number;
  /** Removes the entries below `minId` (whole index blocks only when approximate; at most `limit`, 0 for no limit); returns how many. */
  trimBefore(minId: StreamId, approximate: boolean, limit: number): number;
  /** Removes the oldest entries until the live bodies take at most `maxBytes`; returns how many. */
  trimToBytes(maxBytes: number): number;
  /** The bodies of `ids`, undefined for one that is not (or no longer) there. */
  read(ids: readonly StreamId[]): Promise<(Uint8Array | undefined)[]>;
  /** The live entries within [from, to], in batches read with large sequential reads. */
  scan(from: StreamId, to: StreamId, reverse: boolean): AsyncGenerator<{ id: StreamId; body: Uint8Array }[]>;
  /** `scan` without a view or an object per entry: each batch's bodies where they were read to. */
  scanBodies(from: StreamId, to: StreamId, reverse: boolean): AsyncGenerator<ScannedBodies>;
}

/**
 * A batch of a scan: entry i has the ID ids[i] and its body is bytes [starts[i], starts[i] +
 * bodyBytes[i]) of buffers[i], or it is gone (buffers[i] undefined: its file was released).
 */
export interface ScannedBodies {
  ids: StreamId[];
  bodyBytes: number[];
  buffers: (Buffer | undefined)[];
  starts: number[];
}

/** What a stream's entries need from their storage. */
export interface EntrySink extends RecordSource {
  /** Appends a record of `stream` and returns its data position. */
  appendRecord(stream: number, id: StreamId, body: Uint8Array): number;
}

function checkId(id: unknown): asserts id is StreamId {
  if (!isStreamId(id)) throw new TypeError("a stream ID is a 16-char binary string");
}

function checkCount(value: number, what: string): void {
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) throw new TypeError(`${what} is a number at least 0`);
}

export class StoredStreamEntries implements StreamEntries {
  /** Set once the storage dropped this stream: it takes no more entries. */
  dropped = false;

  constructor(
    readonly stream: number,
    readonly index: StreamIndex,
    private readonly sink: EntrySink,
  ) {}

  get length(): number {
    return this.index.length;
  }

  get bodyBytes(): number {
    return this.index.bodyBytes;
  }

  get firstId(): StreamId | undefined {
    return this.index.firstId;
  }

  get lastId(): StreamId | undefined {
    return this.index.lastId;
  }

  append(id: StreamId, body: Uint8Array): void {
    checkId(id);
    if (!(body instanceof Uint8Array)) throw new TypeError("an entry body is a Uint8Array");
    if (body.byteLength > ENTRY_BODY_BYTES_MAX) {
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `an entry is at most ${ENTRY_BODY_BYTES_MAX} bytes`);
    }
    assert(!this.dropped, "a dropped stream takes no entries");
    const position = this.sink.appendRecord(this.stream, id, body);
    this.index.append(id, position, body.byteLength);
  }

  has(id: StreamId): boolean {
    checkId(id);
    return this.index.has(id);
  }

  delete(id: StreamId): boolean {
    checkId(id);
    return this.index.delete(id);
  }

  ids(from: StreamId, to: StreamId, count: number, reverse: boolean): StreamId[] {
    checkId(from);
    checkId(to);
    checkCount(count, "count");
    return this.index.ids(from, to, count, reverse);
  }

  trimToLength(maxLength: number, approximate: boolean, limit: number): number {
    checkCount(maxLength, "maxLength");
    return this.index.trimToLength(maxLength, approximate, limit);
  }

  trimBefore(minId: StreamId, approximate: boolean, limit: number): number {
    checkId(minId);
    return this.index.trimBefore(minId, approximate, limit);
  }

  trimToBytes(maxBytes: number): number {
    checkCount(maxBytes, "maxBytes");
    return this.index.trimToBytes(maxBytes);
  }

  async read(ids: readonly StreamId[]): Promise<(Uint8Array | undefined)[]> {
    const found: EntryLocations = { ids: [], positions: [], bodyBytes: [] };
    const slots: number[] = [];
    for (const [i, id] of ids.entries()) {
      checkId(id);
      const location = this.index.locate(id);
      if (location === undefined) continue;
      slots.push(i);
      found.ids.push(id);
      found.positions.push(location.position);
      found.bodyBytes.push(location.bodyBytes);
    }
    const bodies = new Array<Uint8Array | undefined>(ids.length).fill(undefined);
    const read = await readBodies(this.sink, this.stream, found);
    for (const [k, i] of slots.entries()) bodies[i] = read[k];
    return bodies;
  }

  async *scan(from: StreamId, to: StreamId, reverse: boolean): AsyncGenerator<{ id: StreamId; body: Uint8Array }[]> {
    for await (const found of this.scanBodies(from, to, reverse)) {
      const batch: { id: StreamId; body: Uint8Array }[] = [];
      for (let i = 0; i < found.ids.length; i++) {
        const buffer = found.buffers[i];
        if (buffer === undefined) continue;
        const body = new Uint8Array(buffer.buffer, buffer.byteOffset + (found.starts[i] as number), found.bodyBytes[i] as number);
        batch.push({ id: found.ids[i] as StreamId, body });
      }
      if (batch.length > 0) yield batch;
    }
  }

  async *scanBodies(from: StreamId, to: StreamId, reverse: boolean): AsyncGenerator<ScannedBodies> {
    checkId(from);
    checkId(to);
    let low: StreamId | undefined = from;
    let high: StreamId | undefined = to;
    while (low !== undefined && high !== undefined && low <= high) {
      // Each batch is looked up afresh from the last ID handed out, so trims and deletes between batches are seen.
      const found = this.index.locations(low, high, SCAN_BATCH_ENTRIES, reverse, SCAN_BATCH_BYTES);
      const count = found.ids.length;
      if (count === 0) return;
      const { buffers, starts } = await readBodyBuffers(this.sink, this.stream, found);
      const last = found.ids[count - 1] as StreamId;
      if (reverse) high = previousId(last);
      else low = nextId(last);
      yield { ids: found.ids, bodyBytes: found.bodyBytes, buffers, starts };
    }
  }
}
