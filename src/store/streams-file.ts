/**
 * A checkpoint's streams file (docs/format.md, "Streams in a checkpoint"): what the streams
 * were at the checkpoint's LSN, apart from their entries, which the entry storage keeps in
 * its own files (checksummed-json.ts).
 */
import { join } from "node:path";
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import type { SavedStreams } from "../streams/index.js";
import { readChecksummedJson, writeChecksummedJson } from "./checksummed-json.js";

export function streamsFileName(lsn: number): string {
  return `streams-${String(lsn).padStart(20, "0")}.json`;
}

export function parseStreamsFileName(name: string): number | undefined {
  const match = /^streams-(\d{20})\.json$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** Writes `saved` durably under its name in `directory`, before the manifest names it. */
export function writeStreamsFile(fs: FileSystem, directory: string, name: string, saved: SavedStreams): Promise<void> {
  // A crash before the rename leaves a .tmp that the next open removes; after it, a file no
  // manifest names yet, removed the same way.
  return writeChecksummedJson(fs, directory, name, saved);
}

export async function readStreamsFile(fs: FileSystem, directory: string, name: string): Promise<SavedStreams> {
  const saved = (await readChecksummedJson(fs, directory, name)) as SavedStreams;
  if (saved?.format !== 1 || !Array.isArray(saved.streams)) {
    const path = join(directory, name);
    throw new LogbookError("LOGBOOK_CORRUPTION", `${path} has an unknown format`, { file: path });
  }
  return saved;
}
