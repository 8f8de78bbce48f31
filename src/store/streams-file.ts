/**
 * A checkpoint's streams file (docs/format.md, "Streams in a checkpoint"): what the streams
 * were at the checkpoint's LSN, apart from their entries, which the entry storage keeps in
 * its own files. A JSON document followed by a line with its CRC-32, like the manifest;
 * written to a temporary name, fdatasynced and renamed before the manifest names it.
 */
import { join } from "node:path";
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { crc32 } from "../log/index.js";
import type { SavedStreams } from "../streams/index.js";

export function streamsFileName(lsn: number): string {
  return `streams-${String(lsn).padStart(20, "0")}.json`;
}

export function parseStreamsFileName(name: string): number | undefined {
  const match = /^streams-(\d{20})\.json$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

function checksumLine(body: string): string {
  return crc32(new TextEncoder().encode(body)).toString(16).padStart(8, "0");
}

/** Writes `saved` durably under its name in `directory` (the directory is synced by the manifest's install). */
export async function writeStreamsFile(fs: FileSystem, directory: string, name: string, saved: SavedStreams): Promise<void> {
  const body = JSON.stringify(saved);
  const temporary = join(directory, `${name}.tmp`);
  if ((await fs.list(directory)).includes(`${name}.tmp`)) await fs.unlink(temporary);
  const handle = await fs.open(temporary, "create");
  try {
    await handle.write(new TextEncoder().encode(`${body}\ncrc32 ${checksumLine(body)}\n`), 0, { datasync: true });
  } finally {
    await handle.close();
  }
  // A crash before the rename leaves a .tmp that the next open removes; after it, a file no
  // manifest names yet, removed the same way.
  await fs.rename(temporary, join(directory, name));
  await fs.syncDirectory(directory);
}

export async function readStreamsFile(fs: FileSystem, directory: string, name: string): Promise<SavedStreams> {
  const path = join(directory, name);
  const handle = await fs.open(path, "read");
  let text: string;
  try {
    const bytes = new Uint8Array(await handle.sizeBytes());
    await handle.read(bytes, 0);
    text = new TextDecoder().decode(bytes);
  } finally {
    await handle.close();
  }
  const match = /^([\s\S]*)\ncrc32 ([0-9a-f]{8})\n$/.exec(text);
  const body = match?.[1];
  if (body === undefined || match?.[2] !== checksumLine(body)) {
    throw new LogbookError("LOGBOOK_CORRUPTION", `${path} is damaged (checksum mismatch)`, { file: path });
  }
  const saved = JSON.parse(body) as SavedStreams;
  if (saved.format !== 1 || !Array.isArray(saved.streams)) {
    throw new LogbookError("LOGBOOK_CORRUPTION", `${path} has an unknown format`, { file: path });
  }
  return saved;
}
