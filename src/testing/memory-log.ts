/**
 * A WriteAheadLog held in memory, for tests of what is built on the seam (the store's suite
 * runs over it with LOGBOOK_TEST_LOG=memory). It keeps the contract of src/log/contract.ts,
 * as test/log/wal-conformance.ts checks: LSNs in order, groups atomic, a write acknowledged
 * only once it is "durable" (moved to its directory's records at a later turn of the event
 * loop, all pending writes at once, like a group commit), fail-stop, truncation, replay and
 * follow from any LSN.
 *
 * Logs live in a registry by directory: one closed and opened again sees what was
 * acknowledged. Tests steer one with `hold`/`release` (acknowledgement waits, as behind a slow
 * fdatasync), `injectFailure` (the next commit fails, as on EIO) and `crash` (the process
 * dies: what was not acknowledged is lost, or kept with `keep: "all"`).
 */
import { resolve as resolvePath } from "node:path";
import { LogbookError } from "../errors.js";
import type { OpenWriteAheadLog, WalHooks, WalOpenOptions } from "../log/index.js";
import { MemoryLog, type StoredLog } from "./memory-wal.js";

export { MemoryLog };

export interface MemoryLogOptions {
  /** The largest group, in payload bytes; beyond it sequence throws LOGBOOK_RECORD_TOO_LARGE. Default 4 MiB. */
  batchBytesMax?: number;
}

const DEFAULT_BATCH_BYTES_MAX = 4 * 1024 * 1024;
const directories = new Map<string, StoredLog>();

/** Opens (or creates) the memory log of `directory`, as a WalOpenOptions opener would. */
export async function openMemoryLog(
  directory: string,
  hooks: WalHooks,
  options: Partial<WalOpenOptions> & MemoryLogOptions = {},
): Promise<MemoryLog> {
  if (typeof directory !== "string" || directory.length === 0) throw new TypeError("directory must be a non-empty string");
  if (typeof hooks?.onCommit !== "function" || typeof hooks.onFailure !== "function") {
    throw new TypeError("hooks must have onCommit() and onFailure()");
  }
  const path = resolvePath(directory);
  const readOnly = options.readOnly ?? false;
  let stored = directories.get(path);
  const created = stored === undefined;
  if (stored === undefined) {
    if (readOnly || options.create === false) throw new LogbookError("LOGBOOK_NOT_FOUND", `no log in ${path}`, { file: path });
    stored = { records: [], firstLsn: 1, lastLsn: 0, writer: undefined };
    directories.set(path, stored);
  }
  if (!readOnly && stored.writer !== undefined) {
    throw new LogbookError("LOGBOOK_LOCKED", `the memory log in ${path} is open for writing`, { file: path });
  }
  const log = new MemoryLog(path, stored, hooks, readOnly, created, options.batchBytesMax ?? DEFAULT_BATCH_BYTES_MAX);
  if (!readOnly) stored.writer = log;
  return log;
}

/** An opener for StoreOptions.openLog. */
export function memoryLogOpener(options: MemoryLogOptions = {}): OpenWriteAheadLog {
  return (directory, hooks, open) => openMemoryLog(directory, hooks, { ...open, ...options });
}

/** The memory log open for writing in `directory`, to steer it (hold, injectFailure, crash). */
export function memoryLogAt(directory: string): MemoryLog | undefined {
  return directories.get(resolvePath(directory))?.writer;
}

/** Forgets the logs of `directory` (default: of every directory), as if their disk were wiped. */
export function forgetMemoryLogs(directory?: string): void {
  if (directory === undefined) directories.clear();
  else directories.delete(resolvePath(directory));
}
