/**
 * Opening a store, in order: its directory (created durably), its manifest, its log (through
 * the WriteAheadLog seam), then recovery (recovery.ts). A failure at any step changes no file
 * and closes what was opened.
 */
import { join, resolve as resolvePath } from "node:path";
import { asDiskError, isLogbookError, LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { NodeFileSystem } from "../io/index.js";
import { type CommitInfo, type OpenWriteAheadLog, openLocalWal, type WalHooks, type WriteAheadLog } from "../log/index.js";
import { type RecoveredStore, readStoreManifest, recoverStore, requiredFromLsnOf } from "./recovery.js";
import { createDirectoryDurably, holdsCheckpoints } from "./store-directory.js";
import type { StoreOptions } from "./store-options.js";

export interface OpenedStore {
  /** The store's directory, resolved. */
  path: string;
  fs: FileSystem;
  log: WriteAheadLog;
  recovered: RecoveredStore;
}

/**
 * The hooks a log is opened with, before the store that handles them exists: they pass each
 * call on once `attach` names the handler. Nothing is sequenced before then, so no commit can
 * be missed; a failure that comes first is kept and passed on at `attach`.
 */
export class HooksRelay implements WalHooks {
  private handler: WalHooks | undefined;
  private failure: LogbookError | undefined;

  attach(handler: WalHooks): void {
    this.handler = handler;
    if (this.failure !== undefined) handler.onFailure(this.failure);
  }

  onCommit(info: CommitInfo): void {
    this.handler?.onCommit(info);
  }

  onFailure(error: LogbookError): void {
    if (this.handler === undefined) this.failure = error;
    else this.handler.onFailure(error);
  }
}

/** The default log of a store: the local log in `<directory>/log`, with the store's log options. */
export function localLogOpener(options: StoreOptions): OpenWriteAheadLog {
  return (directory, hooks, open) =>
    openLocalWal(
      directory,
      {
        ...open,
        fileSystem: options.fileSystem,
        // Replay reads and checks every record after the checkpoint; scanning them all once
        // more at open would double the cost of recovery. Older segments are checked if read.
        verifyOnOpen: "tail",
        sync: options.sync,
        syncIntervalMs: options.syncIntervalMs,
        segmentBytes: options.segmentBytes,
        preallocate: options.preallocate,
        batchBytesMax: options.batchBytesMax,
        commitOnEventLoop: options.commitOnEventLoop,
        clock: options.clock,
      },
      hooks,
    );
}

export async function openStoreParts(directory: string, options: StoreOptions, hooks: WalHooks): Promise<OpenedStore> {
  const path = resolvePath(directory);
  const fs = options.fileSystem ?? new NodeFileSystem();
  const readOnly = options.readOnly === true;
  const hasCheckpoints = await prepareDirectory(fs, path, readOnly).catch((error: unknown) =>
    Promise.reject(asDiskError(error, `cannot create ${path}`, { file: path })),
  );
  const manifest = await readStoreManifest(fs, path).catch((error: unknown) =>
    Promise.reject(asDiskError(error, `cannot read the manifest of ${path}`, { file: path })),
  );
  const openLog = options.openLog ?? localLogOpener({ ...options, fileSystem: fs });
  const log = await openLog(join(path, "log"), hooks, {
    readOnly,
    // The newest checkpoint holds what the records up to it wrote: damage among them is
    // reported, not fatal (recovery.ts; a fallback to an older checkpoint needs them again).
    requiredFromLsn: requiredFromLsnOf(manifest),
    // A store with checkpoints whose log is gone is refused below, not given an empty log.
    create: !readOnly && !hasCheckpoints,
  }).catch((error: unknown) => {
    if (!hasCheckpoints || !isLogbookError(error, "LOGBOOK_NOT_FOUND")) throw error;
    throw new LogbookError(
      "LOGBOOK_CORRUPTION",
      `the store in ${path} has checkpoints but no log: it ends at LSN 0, before them, and the writes after them are lost`,
      { file: join(path, "log"), cause: error },
    );
  });
  try {
    const recovered = await recoverStore(fs, path, log, manifest, { readOnly, producerWindow: options.streamProducerWindow });
    return { path, fs, log, recovered };
  } catch (error) {
    await log.close().catch(() => undefined);
    // A disk error while reading the manifest or a checkpoint is typed like any other.
    throw asDiskError(error, `recovering the store in ${path} failed`, { file: path });
  }
}

/** Creates the directory of a writable store; resolves whether it holds checkpoints (a store was there). */
async function prepareDirectory(fs: FileSystem, path: string, readOnly: boolean): Promise<boolean> {
  if (!readOnly) await createDirectoryDurably(fs, path);
  return holdsCheckpoints(fs, path);
}
