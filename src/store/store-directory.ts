/**
 * The store's directory before its log is opened: created durably for a new store, and
 * inspected for the files that say a store was there before (so that a lost log is refused
 * rather than replaced by an empty one).
 */
import { basename, dirname } from "node:path";
import { errnoCode } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { parseCheckpointName } from "./checkpoint.js";
import { MANIFEST_NAME } from "./manifest.js";

/**
 * Creates `path` and any missing parents, then fsyncs the parent of each directory it created:
 * a new directory's name is durable only once its parent is synced, and without that a power
 * cut could take the whole store, acknowledged writes and all, with it.
 */
export async function createDirectoryDurably(fs: FileSystem, path: string): Promise<void> {
  // Deepest first: each directory not listed in its parent, up to the first one that is.
  const missing: string[] = [];
  for (let at = path; dirname(at) !== at; at = dirname(at)) {
    const names = await fs.list(dirname(at)).catch((error: unknown) => {
      // A parent this process may pass through but not read: it exists, and cannot be synced by us either.
      if (errnoCode(error) === "EACCES" || errnoCode(error) === "EPERM") return undefined;
      throw error;
    });
    if (names === undefined || names.includes(basename(at))) break;
    missing.push(at);
  }
  await fs.mkdir(path);
  // A crash before these syncs loses at most directories holding nothing acknowledged yet.
  for (const created of missing.reverse()) await fs.syncDirectory(dirname(created));
}

/** Whether `path` holds a manifest or a checkpoint: a store was there, and its log must be too. */
export async function holdsCheckpoints(fs: FileSystem, path: string): Promise<boolean> {
  return (await fs.list(path)).some((name) => name === MANIFEST_NAME || parseCheckpointName(name) !== undefined);
}
