/**
 * The manifest (docs/format.md, "Manifest"): which checkpoints are installed, newest first.
 * A JSON document followed by a line with its CRC-32, replaced atomically: written to
 * MANIFEST.tmp, fdatasynced, renamed over MANIFEST, directory fsynced.
 */
import { join } from "node:path";
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { crc32 } from "../log/index.js";
import { type CheckpointInfo, checkpointName } from "./checkpoint.js";
import { streamsFileName } from "./streams-file.js";

export const MANIFEST_NAME = "MANIFEST";
const MANIFEST_FORMAT = 1;

export interface Manifest {
  format: number;
  /** Newest first; at most two: the newest and the one it may fall back to. */
  checkpoints: CheckpointInfo[];
}

export function emptyManifest(): Manifest {
  return { format: MANIFEST_FORMAT, checkpoints: [] };
}

export async function readManifest(fs: FileSystem, directory: string): Promise<Manifest | undefined> {
  if (!(await fs.list(directory)).includes(MANIFEST_NAME)) return undefined;
  const path = join(directory, MANIFEST_NAME);
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
  if (body === undefined || match?.[2] !== crc32(new TextEncoder().encode(body)).toString(16).padStart(8, "0")) {
    throw new LogbookError("LOGBOOK_CORRUPTION", `${path} is damaged (checksum mismatch)`, { file: path });
  }
  const manifest = JSON.parse(body) as Manifest;
  if (manifest.format !== MANIFEST_FORMAT || !Array.isArray(manifest.checkpoints)) {
    throw new LogbookError("LOGBOOK_CORRUPTION", `${path} has an unknown format`, { file: path });
  }
  // Its names are unlinked when checkpoints are dropped: each must be the checkpoint file of its LSN.
  for (const checkpoint of manifest.checkpoints) {
    if (!isCheckpointInfo(checkpoint)) {
      throw new LogbookError("LOGBOOK_CORRUPTION", `${path} names a checkpoint that is not one: ${JSON.stringify(checkpoint)}`, {
        file: path,
      });
    }
  }
  return manifest;
}

function isCheckpointInfo(value: unknown): value is CheckpointInfo {
  if (typeof value !== "object" || value === null) return false;
  const { file, lsn, entries, bytes, streams } = value as Record<string, unknown>;
  const counts = [lsn, entries, bytes].every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
  return (
    counts && file === checkpointName(lsn as number) && (streams === undefined || streams === streamsFileName(lsn as number))
  );
}

export async function writeManifest(fs: FileSystem, directory: string, manifest: Manifest): Promise<void> {
  const body = JSON.stringify(manifest, null, 2);
  const text = `${body}\ncrc32 ${crc32(new TextEncoder().encode(body)).toString(16).padStart(8, "0")}\n`;
  const temporary = join(directory, `${MANIFEST_NAME}.tmp`);
  if ((await fs.list(directory)).includes(`${MANIFEST_NAME}.tmp`)) await fs.unlink(temporary);
  const handle = await fs.open(temporary, "create");
  try {
    await handle.write(new TextEncoder().encode(text), 0, { datasync: true });
  } finally {
    await handle.close();
  }
  // The rename is the commit point; until the directory is synced a power cut may undo it.
  await fs.rename(temporary, join(directory, MANIFEST_NAME));
  await fs.syncDirectory(directory);
}
