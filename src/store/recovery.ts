/**
 * Store recovery: load the newest checkpoint the manifest names that loads (falling back to the
 * previous one when loading the newest fails in any way and the log still holds what the
 * previous one needs), then replay every committed log record after it. Nothing is removed
 * until recovery has succeeded: a refused open leaves every file for whoever repairs the store.
 * A fallback past a checkpoint with streams rewrites the manifest without it first, since
 * opening the streams at the older one cuts the data the newer one needs.
 *
 * The log is opened with `requiredFromLsn` just after the newest checkpoint, so damage among
 * records that checkpoint holds is passed over and reported rather than fatal. That holds only
 * if the newest checkpoint is the one loaded: falling back to the previous one needs those
 * records again, and damage among them then refuses the open.
 */
import { join } from "node:path";
import { asDiskError, isLogbookError, LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import type { DamageReport, WriteAheadLog } from "../log/index.js";
import { type SavedStreams, StreamSpace } from "../streams/index.js";
import { type CheckpointInfo, parseCheckpointName } from "./checkpoint.js";
import { type LoadedCheckpoint, readCheckpoint } from "./checkpoint-reader.js";
import { emptyManifest, MANIFEST_NAME, type Manifest, readManifest, writeManifest } from "./manifest.js";
import { replay } from "./replay.js";
import { SortedState } from "./state.js";
import { parseStreamsFileName, readStreamsFile } from "./streams-file.js";

export interface StoreRecoveryReport {
  /** LSN of the checkpoint loaded; 0 when the state was rebuilt from the log alone. */
  checkpointLsn: number;
  /**
   * Checkpoints the manifest names that were not used, newest first, with why: `code` is
   * LOGBOOK_CORRUPTION for a damaged file, the disk's error code (LOGBOOK_IO…) for one that
   * could not be read, LOGBOOK_TRUNCATED when the log no longer holds the records after it,
   * the error's name for any other failure.
   */
  skippedCheckpoints: { file: string; reason: string; code: string }[];
  /**
   * Damaged regions of the log that recovery passed over because the loaded checkpoint holds
   * every record in them (`fromLsn` up to `untilLsn`); the segments holding them are freed by
   * the first checkpoint whose fallback is past them, as any segment is.
   */
  damagedBelowCheckpoint: DamageReport[];
  recordsReplayed: number;
  bytesReplayed: number;
  keys: number;
  durationMs: number;
}

export interface RecoveredStore {
  state: SortedState;
  appliedLsn: number;
  /** The manifest as it is on disk (empty when there is none), once recovery rewrote it after a fallback. */
  manifest: Manifest;
  /** The checkpoint the state was loaded from; undefined when it was rebuilt from the log alone. */
  loaded: CheckpointInfo | undefined;
  /** What the loaded checkpoint's streams file records, if it has one. */
  loadedStreams: SavedStreams | undefined;
  /** The streams, as of the last record replayed. */
  streams: StreamSpace;
  report: StoreRecoveryReport;
}

export interface RecoveryOptions {
  readOnly: boolean;
  producerWindow?: number;
}

/** The manifest, read before the log is opened: its newest checkpoint says which records the log must have (Store.open). */
export async function readStoreManifest(fs: FileSystem, directory: string): Promise<Manifest> {
  return (await readManifest(fs, directory)) ?? emptyManifest();
}

/** The LSN from which the log's records are needed: the one after the newest checkpoint (0: all of them). */
export function requiredFromLsnOf(manifest: Manifest): number {
  const newest = manifest.checkpoints[0];
  return newest === undefined ? 0 : newest.lsn + 1;
}

export async function recoverStore(
  fs: FileSystem,
  directory: string,
  log: WriteAheadLog,
  manifest: Manifest,
  options: RecoveryOptions,
): Promise<RecoveredStore> {
  const startedMs = performance.now();
  const report: StoreRecoveryReport = {
    checkpointLsn: 0,
    skippedCheckpoints: [],
    damagedBelowCheckpoint: [],
    recordsReplayed: 0,
    bytesReplayed: 0,
    keys: 0,
    durationMs: 0,
  };
  const newest = manifest.checkpoints[0];
  if (newest !== undefined && newest.lsn > log.lastLsn) {
    // Checkpoints are installed only once the log is durable up to them: a log that ends
    // before one has lost records, and new writes would reuse their LSNs as versions.
    throw new LogbookError(
      "LOGBOOK_CORRUPTION",
      `the log in ${directory} ends at LSN ${log.lastLsn}, before checkpoint ${newest.file} at LSN ${newest.lsn}`,
      { file: directory, lsn: newest.lsn },
    );
  }
  const loaded = await loadNewestUsable(fs, directory, manifest, log, report);
  refuseDamageAfter(loaded?.checkpoint.lsn ?? 0, log, report);
  const state = loaded?.checkpoint.state ?? SortedState.empty();
  const installed = options.readOnly ? manifest : await forgetSkippedWithStreams(fs, directory, manifest, loaded?.info);
  const streams = await StreamSpace.open(fs, join(directory, STREAMS_DIRECTORY), loaded?.streams, options);
  const appliedLsn = await replay(log, loaded?.checkpoint.lsn ?? 0, state, streams, report).catch(async (error: unknown) => {
    await streams.close();
    throw error;
  });
  // Replay reads around damage below the checkpoint too (reader.ts): the log's list has both.
  report.damagedBelowCheckpoint = log.skipped.map((damage) => ({ ...damage }));
  report.checkpointLsn = loaded?.checkpoint.lsn ?? 0;
  report.keys = state.size;
  // The open has succeeded: only now may what no recovery needs be removed.
  if (!log.isReadOnly) await removeLeftovers(fs, directory, installed);
  report.durationMs = performance.now() - startedMs;
  return {
    state,
    appliedLsn: Math.max(appliedLsn, log.committedLsn),
    manifest: installed,
    loaded: loaded?.info,
    loadedStreams: loaded?.streams,
    streams,
    report,
  };
}

/** Where the store keeps its streams' entry files. */
export const STREAMS_DIRECTORY = "streams";

/**
 * The newest checkpoint of the manifest that loads and that the log can continue, or
 * undefined when the log alone, from LSN 1, rebuilds the state. Any failure to load one (damage,
 * a disk error, a missing file) is noted in `report` and the previous one is tried. Throws
 * when neither a checkpoint nor the whole log is there: with the disk's error if one kept a
 * checkpoint from loading (a retry may succeed), else LOGBOOK_CORRUPTION.
 */
async function loadNewestUsable(
  fs: FileSystem,
  directory: string,
  manifest: Manifest,
  log: WriteAheadLog,
  report: StoreRecoveryReport,
): Promise<{ info: CheckpointInfo; checkpoint: LoadedCheckpoint; streams: SavedStreams | undefined } | undefined> {
  const failures: unknown[] = [];
  for (const info of manifest.checkpoints) {
    if (log.firstLsn > info.lsn + 1) {
      const reason = `the log starts at LSN ${log.firstLsn}, after the records that follow it`;
      report.skippedCheckpoints.push({ file: info.file, reason, code: "LOGBOOK_TRUNCATED" });
      continue;
    }
    try {
      const checkpoint = await readCheckpoint(fs, join(directory, info.file));
      const streams = info.streams === undefined ? undefined : await readStreamsFile(fs, directory, info.streams);
      return { info, checkpoint, streams };
    } catch (error) {
      const typed = asDiskError(error, `loading checkpoint ${info.file} failed`, { file: join(directory, info.file) });
      failures.push(typed);
      report.skippedCheckpoints.push({
        file: info.file,
        reason: typed instanceof Error ? typed.message : String(typed),
        code: isLogbookError(typed) ? typed.code : typed instanceof Error ? typed.name : "Error",
      });
    }
  }
  if (log.firstLsn <= 1) return undefined;
  const skipped = report.skippedCheckpoints.map((s) => `${s.file}: ${s.reason}`).join("; ");
  const message = `no usable checkpoint in ${directory} and the log starts at LSN ${log.firstLsn}: the records before it are gone`;
  const unreadable = failures.find((error) => !isLogbookError(error, "LOGBOOK_CORRUPTION"));
  if (unreadable !== undefined) {
    throw isLogbookError(unreadable)
      ? new LogbookError(unreadable.code, `${message} (${skipped})`, { file: directory, cause: unreadable })
      : unreadable;
  }
  throw new LogbookError("LOGBOOK_CORRUPTION", `${message}${skipped === "" ? "" : ` (${skipped})`}`, { file: directory });
}

/**
 * The manifest to go on with once `loaded` (undefined: none, the log is replayed from LSN 1)
 * is the checkpoint recovery loads. Opening the streams at it cuts the stream data past its end,
 * and a newer checkpoint skipped on the way that has streams needs that data: it could never
 * load again, yet a later open would try it first (its failure may have been a read error that
 * does not recur) and fail. So before the cut the manifest is rewritten, durably, without the
 * skipped checkpoints. Nothing is lost: the log holds every record after the one loaded, which
 * is why it could be loaded. Their files stay until the open has succeeded (removeLeftovers).
 */
async function forgetSkippedWithStreams(
  fs: FileSystem,
  directory: string,
  manifest: Manifest,
  loaded: CheckpointInfo | undefined,
): Promise<Manifest> {
  const at = loaded === undefined ? manifest.checkpoints.length : manifest.checkpoints.findIndex((c) => c.file === loaded.file);
  if (!manifest.checkpoints.slice(0, at).some((skipped) => skipped.streams !== undefined)) return manifest;
  const rewritten: Manifest = { ...manifest, checkpoints: manifest.checkpoints.slice(at) };
  // A crash before the rename leaves the old manifest, and the stream data not yet cut.
  await writeManifest(fs, directory, rewritten);
  return rewritten;
}

/**
 * Damage the log's open passed over holds records replay after `loadedLsn` needs when the
 * checkpoint loaded is older than the newest (a fallback): LOGBOOK_CORRUPTION, naming it.
 */
function refuseDamageAfter(loadedLsn: number, log: WriteAheadLog, report: StoreRecoveryReport): void {
  const needed = log.skipped.find((damage) => damage.untilLsn === undefined || damage.untilLsn > loadedLsn + 1);
  if (needed === undefined) return;
  const skipped = report.skippedCheckpoints.map((s) => `${s.file}: ${s.reason}`).join("; ");
  throw new LogbookError(
    "LOGBOOK_CORRUPTION",
    `log records from LSN ${needed.fromLsn} are damaged (${needed.reason}, ${needed.file} at offset ${needed.offset}), ` +
      `and replay from the checkpoint at LSN ${loadedLsn} needs them${skipped === "" ? "" : ` (${skipped})`}`,
    { file: needed.file, offset: needed.offset, lsn: needed.fromLsn },
  );
}

/**
 * What the store itself left behind that no recovery needs: temporary files of an interrupted
 * checkpoint or manifest, and checkpoints the manifest no longer names. Other files are not
 * the store's, and stay.
 */
async function removeLeftovers(fs: FileSystem, directory: string, manifest: Manifest): Promise<void> {
  const named = new Set(manifest.checkpoints.flatMap((c) => (c.streams === undefined ? [c.file] : [c.file, c.streams])));
  let removed = 0;
  for (const name of await fs.list(directory)) {
    const stem = name.endsWith(".tmp") ? name.slice(0, -4) : undefined;
    const ours = (n: string) => parseCheckpointName(n) !== undefined || parseStreamsFileName(n) !== undefined;
    const temporary = name === `${MANIFEST_NAME}.tmp` || (stem !== undefined && ours(stem));
    const unnamed = ours(name) && !named.has(name);
    if (temporary || unnamed) {
      await fs.unlink(join(directory, name));
      removed++;
    }
  }
  if (removed > 0) await fs.syncDirectory(directory);
}
