/**
 * The write-behind buffer of the stream data: bytes appended at apply time are copied into
 * chunks in memory and written to the data files in order, one large write per chunk, in the
 * background. Nothing here is fsynced (persist in entry-storage.ts does that). Until a chunk's
 * write has completed its bytes are read from memory, so a reader never sees a position that is
 * neither on disk nor here.
 *
 * A chunk never spans two data files: the storage seals the current chunk before a file's
 * first byte. A failed write stops all further writes; the failure is what `flushedTo` rejects
 * with from then on, while appends keep going to memory (the store's log still holds them, and
 * the next open replays them).
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";

/** Bytes of an ordinary chunk (a record larger than this gets a chunk of its own size). */
export const WRITE_CHUNK_BYTES = 1024 * 1024;

interface Chunk {
  position: number;
  bytes: Uint8Array;
  used: number;
}

export type ChunkWriter = (position: number, bytes: Uint8Array) => Promise<void>;

export class WriteBehind {
  /** Chunks to write, oldest first. */
  private readonly sealed: Chunk[] = [];
  /** The chunk appends are filling, not yet to be written. */
  private filling: Chunk | undefined;
  private writing: Promise<void> | undefined;
  private failure: unknown;
  private waiters: { position: number; resolve: () => void; reject: (error: unknown) => void }[] = [];
  /** Every byte below this is written to its file. */
  writtenPosition: number;
  /** The position the next appended byte gets. */
  endPosition: number;

  /** `write` undefined: a read-only storage, whose appends stay in memory. */
  constructor(
    position: number,
    private readonly write: ChunkWriter | undefined,
  ) {
    this.writtenPosition = position;
    this.endPosition = position;
  }

  /** Room for `bytes` contiguous bytes at `endPosition`: the chunk and offset to fill them at. */
  reserve(bytes: number): { target: Uint8Array; at: number } {
    let chunk = this.filling;
    if (chunk === undefined || chunk.used + bytes > chunk.bytes.byteLength) {
      this.seal();
      chunk = { position: this.endPosition, bytes: new Uint8Array(Math.max(WRITE_CHUNK_BYTES, bytes)), used: 0 };
      this.filling = chunk;
    }
    const at = chunk.used;
    chunk.used += bytes;
    this.endPosition += bytes;
    return { target: chunk.bytes, at };
  }

  /** Ends the filling chunk, so the next byte starts a new one, and starts writing it. */
  seal(): void {
    if (this.filling !== undefined && this.filling.used > 0) this.sealed.push(this.filling);
    this.filling = undefined;
    this.pump();
  }

  /** A copy of bytes [position, position + length) if they are all still in memory. */
  read(position: number, length: number): Uint8Array | undefined {
    if (position < this.writtenPosition) return undefined;
    const chunks = this.filling === undefined ? this.sealed : [...this.sealed, this.filling];
    for (const chunk of chunks) {
      if (position >= chunk.position && position + length <= chunk.position + chunk.used) {
        const at = position - chunk.position;
        return chunk.bytes.slice(at, at + length);
      }
    }
    return undefined;
  }

  /** Resolves once every byte below `position` is written (sealing what is still filling). */
  flushedTo(position: number): Promise<void> {
    assert(position <= this.endPosition, "a flush goes no further than what was appended");
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.writtenPosition >= position) return Promise.resolve();
    assert(this.write !== undefined, "a read-only storage writes nothing");
    const flushed = new Promise<void>((resolve, reject) => this.waiters.push({ position, resolve, reject }));
    this.seal();
    return flushed;
  }

  /** Bytes held in memory. */
  get bufferedBytes(): number {
    return this.endPosition - this.writtenPosition;
  }

  /** Resolves when no write is in flight; none is started afterwards. */
  async stop(): Promise<void> {
    this.failure ??= new LogbookError("LOGBOOK_CLOSED", "the stream data storage is closed");
    await this.writing;
  }

  private pump(): void {
    if (this.writing !== undefined || this.write === undefined || this.failure !== undefined) return;
    if (this.sealed.length === 0) return;
    this.writing = this.writeSealed(this.write).finally(() => {
      this.writing = undefined;
      // A chunk sealed while the last write was finishing.
      this.pump();
    });
  }

  private async writeSealed(write: ChunkWriter): Promise<void> {
    while (this.sealed.length > 0 && this.failure === undefined) {
      const chunk = this.sealed[0] as Chunk;
      try {
        await write(chunk.position, chunk.bytes.subarray(0, chunk.used));
      } catch (error) {
        this.failure = error;
        for (const waiter of this.waiters.splice(0)) waiter.reject(error);
        return;
      }
      this.sealed.shift();
      this.writtenPosition = chunk.position + chunk.used;
      this.waiters = this.waiters.filter((waiter) => {
        if (waiter.position > this.writtenPosition) return true;
        waiter.resolve();
        return false;
      });
    }
  }
}
