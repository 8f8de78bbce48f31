/**
 * Byte surgery on files, to damage them on purpose: flip a bit, truncate, zero a sector.
 */
import { open, readdir, truncate } from "node:fs/promises";
import { join } from "node:path";

export async function flipBit(path: string, offset: number, bit = 0): Promise<void> {
  const handle = await open(path, "r+");
  try {
    const one = Buffer.alloc(1);
    await handle.read(one, 0, 1, offset);
    one[0] = (one[0] ?? 0) ^ (1 << bit);
    await handle.write(one, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

export async function writeBytes(path: string, offset: number, data: Uint8Array): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.write(data, 0, data.byteLength, offset);
  } finally {
    await handle.close();
  }
}

export async function zeroRange(path: string, offset: number, length: number): Promise<void> {
  await writeBytes(path, offset, new Uint8Array(length));
}

/** Zeroes the 512-byte sector holding `offset`, as a torn write leaves it. */
export async function zeroSector(path: string, offset: number, sectorBytes = 512): Promise<void> {
  await zeroRange(path, Math.floor(offset / sectorBytes) * sectorBytes, sectorBytes);
}

export async function readBytes(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export { truncate as truncateFile };

export async function segmentFiles(directory: string): Promise<string[]> {
  return (await readdir(directory))
    .filter((name) => /^\d{20}\.log$/.test(name))
    .sort()
    .map((name) => join(directory, name));
}
