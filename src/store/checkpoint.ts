/**
 * Checkpoint data files (docs/format.md, "Checkpoint file"): the whole state at one LSN, as
 * sorted entries in checksummed blocks. Written from a snapshot while writers go on; installed
 * by fsync, rename and directory fsync. checkpoint-reader.ts loads and verifies them.
 */
import { join } from "node:path";
import type { FileSystem } from "../io/index.js";
import { crc32Range } from "../log/index.js";
import { type SortedState, storedExpiresAt, storedValue, storedValueBytes, storedVersion } from "./state.js";

export const CHECKPOINT_MAGIC = "LBCKPT01";
export const CHECKPOINT_END_MAGIC = "LBCKEND1";
export const CHECKPOINT_HEADER_BYTES = 64;
export const CHECKPOINT_FOOTER_BYTES = 32;
export const BLOCK_HEADER_BYTES = 16;
/** Blocks are cut once they reach this size (an entry larger than it gets a block of its own). */
export const BLOCK_BYTES_TARGET = 64 * 1024;
/** The version written. Version 1 (still read) has no expiry times: its versions never have bit 63 set. */
export const CHECKPOINT_FORMAT_VERSION = 2;
export const CHECKPOINT_FORMAT_VERSION_MIN = 1;
/** In an entry's version (format 2), the high half's top bit: a u64 expiry time follows. */
export const EXPIRY_FOLLOWS = 0x8000_0000;
/** u64 fields are two u32 halves, low first: value = high * TWO_POW_32 + low. */
const TWO_POW_32 = 2 ** 32;

export function checkpointName(lsn: number): string {
  return `checkpoint-${String(lsn).padStart(20, "0")}.dat`;
}

export function parseCheckpointName(name: string): number | undefined {
  const match = /^checkpoint-(\d{20})\.dat$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export interface CheckpointInfo {
  file: string;
  lsn: number;
  entries: number;
  bytes: number;
  /** The checkpoint's streams file (streams-file.ts), when the store had streams or stream files. */
  streams?: string;
}

function writeU64(buffer: Buffer, value: number, offset: number): void {
  buffer.writeUInt32LE(value % TWO_POW_32, offset);
  buffer.writeUInt32LE(Math.floor(value / TWO_POW_32), offset + 4);
}

export function readU64(buffer: Buffer, offset: number): number {
  return buffer.readUInt32LE(offset + 4) * TWO_POW_32 + buffer.readUInt32LE(offset);
}

/**
 * Writes `snapshot` (the state exactly as of `lsn`) to `<dir>/<name>.tmp`, fdatasyncs it and
 * renames it into place, then fsyncs the directory. A crash before the rename leaves only a
 * .tmp file, which the next open removes; after it, a complete file that no manifest names yet.
 */
export async function writeCheckpoint(
  fs: FileSystem,
  directory: string,
  snapshot: SortedState,
  lsn: number,
  createdAtMs: number,
): Promise<CheckpointInfo> {
  const name = checkpointName(lsn);
  const temporary = join(directory, `${name}.tmp`);
  if ((await fs.list(directory)).includes(`${name}.tmp`)) await fs.unlink(temporary);
  const handle = await fs.open(temporary, "create");
  let position = CHECKPOINT_HEADER_BYTES;
  let entries = 0;
  let blocks = 0;
  try {
    let block = Buffer.allocUnsafe(BLOCK_BYTES_TARGET + BLOCK_HEADER_BYTES);
    let used = BLOCK_HEADER_BYTES;
    let blockEntries = 0;
    const flush = async () => {
      if (blockEntries === 0) return;
      block.writeUInt32LE(used - BLOCK_HEADER_BYTES, 0);
      block.writeUInt32LE(blockEntries, 4);
      block.writeUInt32LE(crc32Range(block, BLOCK_HEADER_BYTES, used), 8);
      block.writeUInt32LE(0, 12);
      await handle.write(block.subarray(0, used), position);
      position += used;
      blocks++;
      used = BLOCK_HEADER_BYTES;
      blockEntries = 0;
    };
    for (const [key, stored] of snapshot.entries(undefined, false)) {
      const valueBytes = storedValueBytes(stored);
      const expiresAt = storedExpiresAt(stored);
      const size = 4 + key.length + 4 + valueBytes + 8 + (expiresAt > 0 ? 8 : 0);
      if (used + size > block.byteLength) {
        await flush();
        if (BLOCK_HEADER_BYTES + size > block.byteLength) block = Buffer.allocUnsafe(BLOCK_HEADER_BYTES + size);
      }
      block.writeUInt32LE(key.length, used);
      used += 4;
      used += block.write(key, used, "latin1");
      block.writeUInt32LE(valueBytes, used);
      used += 4;
      used += block.write(storedValue(stored), used, "latin1");
      writeU64(block, storedVersion(stored), used);
      if (expiresAt > 0) {
        block.writeUInt32LE((block.readUInt32LE(used + 4) | EXPIRY_FOLLOWS) >>> 0, used + 4);
        writeU64(block, expiresAt, used + 8);
        used += 8;
      }
      used += 8;
      blockEntries++;
      entries++;
      if (used >= BLOCK_BYTES_TARGET) await flush();
    }
    await flush();
    const footer = Buffer.alloc(CHECKPOINT_FOOTER_BYTES);
    footer.write(CHECKPOINT_END_MAGIC, 0, "latin1");
    writeU64(footer, entries, 8);
    footer.writeUInt32LE(blocks, 16);
    footer.writeUInt32LE(crc32Range(footer, 0, 28), 28);
    await handle.write(footer, position);
    position += CHECKPOINT_FOOTER_BYTES;
    const header = Buffer.alloc(CHECKPOINT_HEADER_BYTES);
    header.write(CHECKPOINT_MAGIC, 0, "latin1");
    header.writeUInt16LE(CHECKPOINT_FORMAT_VERSION, 8);
    header.writeUInt16LE(CHECKPOINT_HEADER_BYTES, 10);
    writeU64(header, lsn, 16);
    writeU64(header, entries, 24);
    header.writeUInt32LE(blocks, 32);
    writeU64(header, createdAtMs, 40);
    header.writeUInt32LE(crc32Range(header, 0, 60), 60);
    await handle.write(header, 0, { datasync: true });
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, join(directory, name));
  await fs.syncDirectory(directory);
  return { file: name, lsn, entries, bytes: position };
}
