/**
 * Store recovery: load the newest valid checkpoint the manifest names (falling back to the
 * previous one when the newest is damaged and the log still holds what the previous one
 * needs), then replay every committed log record after it.
 */
import { join } from "node:path";
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/file-system.js";
import type { Log } from "../log/log.js";
import { parseCheckpointName, readCheckpoint } from "./checkpoint.js";
import { emptyManifest, MANIFEST_NAME, type Manifest, readManifest } from "./manifest.js";
import { visitOperationsIn } from "./operation.js";
import { SortedState, storedFromBytes } from "./state.js";

export interface StoreRecoveryReport {
  /** LSN of the checkpoint loaded; 0 when the state was rebuilt from the log alone. */
  checkpointLsn: number;
  /** Checkpoints that failed verification and were skipped, with why. */
  skippedCheckpoints: { file: string; reason: string }[];
  recordsReplayed: number;
  bytesReplayed: number;
  keys: number;
  durationMs: number;
}

export interface RecoveredStore {
  state: SortedState;
  appliedLsn: number;
  manifest: Manifest;
  report: StoreRecoveryReport;
}

export async function recoverStore(fs: FileSystem, directory: string, log: Log): Promise<RecoveredStore> {
  const startedMs = performance.now();
  const manifest = (await readManifest(fs, directory)) ?? emptyManifest();
  const report: StoreRecoveryReport = {
    checkpointLsn: 0,
    skippedCheckpoints: [],
    recordsReplayed: 0,
    bytesReplayed: 0,
    keys: 0,
    durationMs: 0,
  };
  await removeLeftovers(fs, directory, manifest, log.isReadOnly);
  let state: SortedState | undefined;
  let appliedLsn = 0;
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
  for (const checkpoint of manifest.checkpoints) {
    if (log.firstLsn > checkpoint.lsn + 1) {
      report.skippedCheckpoints.push({ file: checkpoint.file, reason: "the log no longer holds the records after it" });
      continue;
    }
    try {
      const loaded = await readCheckpoint(fs, join(directory, checkpoint.file));
      state = loaded.state;
      appliedLsn = loaded.lsn;
      report.checkpointLsn = loaded.lsn;
      break;
    } catch (error) {
      if (!(error instanceof LogbookError) || error.code !== "LOGBOOK_CORRUPTION") throw error;
      report.skippedCheckpoints.push({ file: checkpoint.file, reason: error.message });
    }
  }
  if (state === undefined) {
    if (log.firstLsn > 1) {
      throw new LogbookError(
        "LOGBOOK_CORRUPTION",
        `no usable checkpoint in ${directory} and the log starts at LSN ${log.firstLsn}: the records before it are gone` +
          (report.skippedCheckpoints.length > 0 ? ` (${report.skippedCheckpoints.map((s) => s.reason).join("; ")})` : ""),
        { file: directory },
      );
    }
    state = SortedState.empty();
  }
  let replayLsn = 0;
  const replayState = state;
  const apply = {
    put: (key: string, bytes: Buffer, valueStart: number, valueEnd: number) =>
      replayState.set(key, storedFromBytes(bytes, valueStart, valueEnd, replayLsn)),
    delete: (key: string) => replayState.delete(key),
  };
  await log.visitRecords({ from: appliedLsn + 1 }, (lsn, bytes, start, end) => {
    replayLsn = lsn;
    visitOperationsIn(bytes, start, end, lsn, apply);
    report.recordsReplayed++;
    report.bytesReplayed += end - start;
    appliedLsn = lsn;
  });
  report.keys = state.size;
  report.durationMs = performance.now() - startedMs;
  return { state, appliedLsn: Math.max(appliedLsn, log.committedLsn), manifest, report };
}

/** Temporary files of an interrupted checkpoint, and checkpoints no manifest names any more. */
async function removeLeftovers(fs: FileSystem, directory: string, manifest: Manifest, readOnly: boolean): Promise<void> {
  if (readOnly) return;
  const named = new Set(manifest.checkpoints.map((c) => c.file));
  let removed = 0;
  for (const name of await fs.list(directory)) {
    const leftover =
      name.endsWith(".tmp") || (parseCheckpointName(name) !== undefined && !named.has(name)) || name === `${MANIFEST_NAME}.tmp`;
    if (leftover) {
      await fs.unlink(join(directory, name));
      removed++;
    }
  }
  if (removed > 0) await fs.syncDirectory(directory);
}
