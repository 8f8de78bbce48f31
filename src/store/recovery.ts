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
import { KeyTable } from "./key-table.js";
import { emptyManifest, MANIFEST_NAME, type Manifest, readManifest } from "./manifest.js";
import { visitOperationsIn } from "./operation.js";
import { SortedState, type Stored, storedFromBytes } from "./state.js";

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
  appliedLsn = await replay(log, appliedLsn, state, report);
  report.keys = state.size;
  report.durationMs = performance.now() - startedMs;
  return { state, appliedLsn: Math.max(appliedLsn, log.committedLsn), manifest, report };
}

/** A key's last replayed write was a delete (LSNs start at 1). */
const DELETED = 0;

/**
 * Replays the log after `afterLsn` into `state` in two passes. The first notes, by the key's
 * bytes, the LSN of each key's last write (a KeyTable: no string, no object, no tree descent
 * per record). The second reads again from the oldest of those LSNs and builds only the values
 * that last. Building every replayed value and setting it in the B+ tree was most of replay's
 * time (the garbage collector copied each value, since it lived until its key's next write); a
 * log that rewrites its keys N times now builds 1/N of them, and the tree is written once per
 * key. Resolves the last LSN replayed.
 */
async function replay(log: Log, afterLsn: number, state: SortedState, report: StoreRecoveryReport): Promise<number> {
  const lastWrites = new KeyTable();
  let lastLsn = afterLsn;
  const noteWrite = {
    put: (bytes: Buffer, keyStart: number, keyEnd: number) => lastWrites.set(bytes, keyStart, keyEnd, lastLsn),
    delete: (bytes: Buffer, keyStart: number, keyEnd: number) => lastWrites.set(bytes, keyStart, keyEnd, DELETED),
  };
  await log.visitRecords({ from: afterLsn + 1 }, (lsn, bytes, start, end) => {
    lastLsn = lsn;
    visitOperationsIn(bytes, start, end, lsn, noteWrite);
    report.recordsReplayed++;
    report.bytesReplayed += end - start;
  });
  if (lastWrites.size === 0) return lastLsn;

  const lsns: number[] = [];
  lastWrites.forEachValue((lsn) => {
    if (lsn !== DELETED) lsns.push(lsn);
  });
  const values: Stored[] = new Array(lastWrites.size);
  let built = 0;
  if (lsns.length > 0) {
    const wanted = Float64Array.from(lsns).sort();
    let next = 0;
    const { operations, collect } = operationCollector();
    await log.visitRecords({ from: wanted[0] }, (lsn, memory, start, end) => {
      if (next >= wanted.length || lsn !== wanted[next]) return;
      while (next < wanted.length && wanted[next] === lsn) next++;
      operations.count = 0;
      visitOperationsIn(memory, start, end, lsn, collect);
      const { bytes } = operations;
      // Last operation first: of two puts of a key in one batch, the second is the one kept.
      for (let i = operations.count - 1; i >= 0; i--) {
        const valueStart = operations.valueStarts[i] as number;
        if (valueStart < 0) continue;
        const entry = lastWrites.entryOf(bytes, operations.keyStarts[i] as number, operations.keyEnds[i] as number);
        if (lastWrites.valueAt(entry) !== lsn || values[entry] !== undefined) continue;
        values[entry] = storedFromBytes(bytes, valueStart, operations.valueEnds[i] as number, lsn);
        built++;
      }
    });
  }
  if (built !== lsns.length) {
    // The log is locked by this store: the second pass reads what the first did.
    throw new LogbookError("LOGBOOK_CORRUPTION", `replay found ${built} of the ${lsns.length} values it noted`, {
      lsn: lastLsn,
    });
  }
  lastWrites.forEach((key, lsn, entry) => {
    if (lsn === DELETED) state.delete(key);
    else state.set(key, values[entry] as Stored);
  });
  return lastLsn;
}

/** One record's operations as byte ranges, kept so they can be taken in any order. */
function operationCollector() {
  const operations = {
    keyStarts: [] as number[],
    keyEnds: [] as number[],
    /** -1 for a delete. */
    valueStarts: [] as number[],
    valueEnds: [] as number[],
    /** What the ranges are in: the record's memory as a Buffer (operation.ts). */
    bytes: Buffer.alloc(0) as Buffer,
    count: 0,
  };
  const note = (bytes: Buffer, keyStart: number, keyEnd: number, valueStart: number, valueEnd: number) => {
    operations.bytes = bytes;
    const i = operations.count++;
    operations.keyStarts[i] = keyStart;
    operations.keyEnds[i] = keyEnd;
    operations.valueStarts[i] = valueStart;
    operations.valueEnds[i] = valueEnd;
  };
  const collect = {
    put: note,
    delete: (bytes: Buffer, keyStart: number, keyEnd: number) => note(bytes, keyStart, keyEnd, -1, -1),
  };
  return { operations, collect };
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
