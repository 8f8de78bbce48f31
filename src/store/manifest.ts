/**
 * The manifest (docs/format.md, "Manifest"): which checkpoints are installed, newest first.
 * A JSON document followed by a line with its CRC-32, replaced atomically: written to
 * MANIFEST.tmp, fdatasynced, renamed over MANIFEST, directory fsynced.
 */
import { join } from "node:path";
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { type CheckpointInfo, checkpointName } from "./checkpoint.js";
import { readChecksummedJson, writeChecksummedJson } from "./checksummed-json.js";
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
  const manifest = (await readChecksummedJson(fs, directory, MANIFEST_NAME)) as Manifest;
  if (manifest?.format !== MANIFEST_FORMAT || !Array.isArray(manifest.checkpoints)) {
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

export function writeManifest(fs: FileSystem, directory: string, manifest: Manifest): Promise<void> {
  return writeChecksummedJson(fs, directory, MANIFEST_NAME, manifest, 2);
}
