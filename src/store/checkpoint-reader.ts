/**
 * Loads and verifies a checkpoint file (docs/format.md, "Checkpoint file") block by block.
 * The file is read through one reused window of CHECKPOINT_READ_WINDOW_BYTES (grown only to
 * hold a block larger than it), so loading takes memory for the state it builds and one window
 * more, whatever the file's size: a checkpoint larger than one Buffer can hold loads too.
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";
import type { FileHandle, FileSystem } from "../io/index.js";
import { crc32Range } from "../log/index.js";
import {
  BLOCK_HEADER_BYTES,
  CHECKPOINT_END_MAGIC,
  CHECKPOINT_FOOTER_BYTES,
  CHECKPOINT_FORMAT_VERSION,
  CHECKPOINT_FORMAT_VERSION_MIN,
  CHECKPOINT_HEADER_BYTES,
  CHECKPOINT_MAGIC,
  EXPIRY_FOLLOWS,
  readU64,
} from "./checkpoint.js";
import { SortedState, type Stored, storedFromBytes } from "./state.js";

/** How much of the file one read takes: several blocks, so a read costs little per block. */
export const CHECKPOINT_READ_WINDOW_BYTES = 1024 * 1024;

export interface LoadedCheckpoint {
  state: SortedState;
  lsn: number;
  entries: number;
}

function damaged(path: string, offset: number, reason: string): LogbookError {
  return new LogbookError("LOGBOOK_CORRUPTION", `checkpoint ${path}: ${reason} (offset ${offset})`, { file: path, offset });
}

/**
 * A window on `[0, endPosition)` of a file: `take` makes a range readable in `bytes`, reading
 * ahead up to the window's size. Positions are file offsets, so they may pass 4 GiB.
 */
class FileWindow {
  bytes: Buffer;
  /** File position of `bytes[0]`, and how many bytes from there are loaded. */
  private start = 0;
  private loaded = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly endPosition: number,
    windowBytes: number,
  ) {
    this.bytes = Buffer.allocUnsafe(windowBytes);
  }

  /** Makes `[position, position + length)` readable; returns the index in `bytes` where it starts. */
  async take(position: number, length: number): Promise<number> {
    assert(position + length <= this.endPosition, "a checkpoint read stays before the footer");
    if (position >= this.start && position + length <= this.start + this.loaded) return position - this.start;
    if (length > this.bytes.byteLength) this.bytes = Buffer.allocUnsafe(length);
    const wanted = Math.min(this.bytes.byteLength, this.endPosition - position);
    const read = await this.handle.read(this.bytes.subarray(0, wanted), position);
    if (read < length) throw damaged(this.handle.path, position + read, "shorter than its size");
    this.start = position;
    this.loaded = read;
    return 0;
  }
}

/** The header's format version and counts, once its magic, checksum and version are verified. */
function verifyHeader(path: string, header: Buffer): { format: number; lsn: number; entries: number; blocks: number } {
  if (header.toString("latin1", 0, 8) !== CHECKPOINT_MAGIC) throw damaged(path, 0, "no checkpoint magic");
  if (header.readUInt32LE(60) !== crc32Range(header, 0, 60)) throw damaged(path, 0, "header checksum mismatch");
  const format = header.readUInt16LE(8);
  if (format < CHECKPOINT_FORMAT_VERSION_MIN || format > CHECKPOINT_FORMAT_VERSION) {
    throw damaged(path, 8, "unsupported format version");
  }
  return { format, lsn: readU64(header, 16), entries: readU64(header, 24), blocks: header.readUInt32LE(32) };
}

function verifyFooter(path: string, footer: Buffer, footerAt: number, entries: number, blocks: number): void {
  if (footer.toString("latin1", 0, 8) !== CHECKPOINT_END_MAGIC) throw damaged(path, footerAt, "no end magic");
  if (footer.readUInt32LE(28) !== crc32Range(footer, 0, 28)) throw damaged(path, footerAt, "footer checksum mismatch");
  if (readU64(footer, 8) !== entries || footer.readUInt32LE(16) !== blocks) {
    throw damaged(path, footerAt, "footer disagrees with header");
  }
}

async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const bytes = Buffer.alloc(length);
  const read = await handle.read(bytes, position);
  if (read !== length) throw damaged(handle.path, position + read, "shorter than its size");
  return bytes;
}

/**
 * Loads and verifies a checkpoint: header and footer first, then every block's checksum, key
 * order and versions, and that the blocks end exactly at the footer. Any damage is
 * LOGBOOK_CORRUPTION naming the file and offset; a failing read rejects with the disk's error.
 */
export async function readCheckpoint(
  fs: FileSystem,
  path: string,
  readWindowBytes = CHECKPOINT_READ_WINDOW_BYTES,
): Promise<LoadedCheckpoint> {
  const handle = await fs.open(path, "read");
  try {
    const size = await handle.sizeBytes();
    if (size < CHECKPOINT_HEADER_BYTES + CHECKPOINT_FOOTER_BYTES) throw damaged(path, 0, "too short");
    const { format, lsn, entries, blocks } = verifyHeader(path, await readExactly(handle, 0, CHECKPOINT_HEADER_BYTES));
    const footerAt = size - CHECKPOINT_FOOTER_BYTES;
    verifyFooter(path, await readExactly(handle, footerAt, CHECKPOINT_FOOTER_BYTES), footerAt, entries, blocks);
    const sink: EntrySink = { keys: [], stored: [], previousKey: undefined, lsn, expiries: format >= 2 };
    const window = new FileWindow(handle, footerAt, readWindowBytes);
    let offset = CHECKPOINT_HEADER_BYTES;
    for (let b = 0; b < blocks; b++) offset = await readBlock(window, path, offset, footerAt, sink);
    if (offset !== footerAt) throw damaged(path, offset, "bytes between the last block and the footer");
    if (sink.keys.length !== entries) throw damaged(path, footerAt, "entry count mismatch");
    // Keys were checked to strictly increase: the tree can be built in one pass.
    return { state: SortedState.fromSorted(sink.keys, sink.stored), lsn, entries };
  } finally {
    await handle.close();
  }
}

/** The entries loaded so far, in key order. */
interface EntrySink {
  keys: string[];
  stored: Stored[];
  previousKey: string | undefined;
  /** The checkpoint's LSN: no entry's version may exceed it. */
  lsn: number;
  /** Whether entries may carry expiry times (format 2). */
  expiries: boolean;
}

/** Verifies the block at `offset` and adds its entries to `sink`; returns the offset after it. */
async function readBlock(window: FileWindow, path: string, offset: number, footerAt: number, sink: EntrySink): Promise<number> {
  if (offset + BLOCK_HEADER_BYTES > footerAt) throw damaged(path, offset, "block runs past the footer");
  const at = await window.take(offset, BLOCK_HEADER_BYTES);
  const header = window.bytes;
  const payloadBytes = header.readUInt32LE(at);
  const blockEntries = header.readUInt32LE(at + 4);
  const checksum = header.readUInt32LE(at + 8);
  // Outside the checksum, so required to be zero: no bit of the file goes unchecked.
  if (header.readUInt32LE(at + 12) !== 0) throw damaged(path, offset, "block reserved word is not zero");
  const payloadAt = offset + BLOCK_HEADER_BYTES;
  if (payloadAt + payloadBytes > footerAt) throw damaged(path, offset, "block runs past the footer");
  const start = await window.take(payloadAt, payloadBytes);
  const bytes = window.bytes;
  const end = start + payloadBytes;
  if (checksum !== crc32Range(bytes, start, end)) throw damaged(path, offset, "block checksum mismatch");
  // Offsets in errors are file offsets: the payload's index in the window plus `shift`.
  const shift = payloadAt - start;
  let cursor = start;
  for (let i = 0; i < blockEntries; i++) {
    if (cursor + 4 > end) throw damaged(path, cursor + shift, "entry runs past its block");
    const keyLength = bytes.readUInt32LE(cursor);
    cursor += 4;
    if (cursor + keyLength + 4 > end) throw damaged(path, cursor + shift, "entry runs past its block");
    const key = bytes.toString("latin1", cursor, cursor + keyLength);
    cursor += keyLength;
    const valueLength = bytes.readUInt32LE(cursor);
    cursor += 4;
    if (cursor + valueLength + 8 > end) throw damaged(path, cursor + shift, "entry runs past its block");
    const valueStart = cursor;
    cursor += valueLength;
    const high = bytes.readUInt32LE(cursor + 4);
    const flagged = sink.expiries && high >= EXPIRY_FOLLOWS;
    const version = (flagged ? high - EXPIRY_FOLLOWS : high) * 2 ** 32 + bytes.readUInt32LE(cursor);
    cursor += 8;
    let expiresAt = 0;
    if (flagged) {
      if (cursor + 8 > end) throw damaged(path, cursor + shift, "entry runs past its block");
      expiresAt = readU64(bytes, cursor);
      cursor += 8;
      if (expiresAt < 1 || !Number.isSafeInteger(expiresAt))
        throw damaged(path, cursor + shift, "entry expiry time out of range");
    }
    if (sink.previousKey !== undefined && !(sink.previousKey < key)) throw damaged(path, cursor + shift, "keys out of order");
    if (version < 1 || version > sink.lsn) throw damaged(path, cursor + shift, "entry version outside the checkpoint");
    // Both copy out of the window (a string each), which the next block's read overwrites.
    sink.keys.push(key);
    sink.stored.push(storedFromBytes(bytes, valueStart, valueStart + valueLength, version, expiresAt));
    sink.previousKey = key;
  }
  if (cursor !== end) throw damaged(path, cursor + shift, "bytes after the last entry of a block");
  return payloadAt + payloadBytes;
}
