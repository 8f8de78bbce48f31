/**
 * The log the store's tests run over: the local log, or the in-memory one (src/testing) when
 * LOGBOOK_TEST_LOG=memory (scripts/run-tests.mjs runs test/store/ both ways). The store reaches
 * either through the WriteAheadLog seam, so its whole suite states its guarantees over both.
 * Tests open stores with openStore, steer acknowledgement with commitGate, and skip with
 * localLogOnly when they are about the local log's own files.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Store, type StoreOptions } from "../../src/index.js";
import { forgetMemoryLogs, type MemoryLog, memoryLogOpener, openMemoryLog } from "../../src/testing/memory-log.js";
import { GatedDisk } from "./gated-disk.js";

export type TestLog = "local" | "memory";

export const testLog: TestLog = process.env.LOGBOOK_TEST_LOG === "memory" ? "memory" : "local";

/** `options` with the log under test: under memory, an openLog for the memory log (same batchBytesMax). */
export function withTestLog(options: StoreOptions = {}): StoreOptions {
  if (testLog === "local" || options.openLog !== undefined) return options;
  return { ...options, openLog: memoryLogOpener({ batchBytesMax: options.batchBytesMax }) };
}

/** Store.open over the log under test. */
export function openStore(directory: string, options: StoreOptions = {}): Promise<Store> {
  return Store.open(directory, withTestLog(options));
}

/** node:test options that skip a test about the local log's files on disk when the memory log is under test. */
export function localLogOnly(reason: string): { skip: string | false } {
  return { skip: testLog === "memory" ? `about the local log: ${reason}` : false };
}

/** Loses a store's whole log (in `<storeDirectory>/log`), as a deleted log directory would. */
export async function loseStoreLog(storeDirectory: string): Promise<void> {
  if (testLog === "memory") forgetMemoryLogs(join(storeDirectory, "log"));
  else await rm(join(storeDirectory, "log"), { recursive: true });
}

/** Holds a store's acknowledgements while a test looks: the fdatasync gate on the local log, the memory log's own hold. */
export interface CommitGate {
  /** Spread into the store's options. */
  readonly options: StoreOptions;
  hold(): void;
  /** Lets acknowledgement go on; with `fail`, the held writes fail as on an fdatasync EIO. */
  release(fail?: boolean): void;
}

export function commitGate(): CommitGate {
  if (testLog === "local") {
    const disk = new GatedDisk();
    return {
      options: { fileSystem: disk.fileSystem },
      hold: () => disk.syncs.hold(),
      release: (fail) => disk.syncs.release(fail === true ? "EIO" : undefined),
    };
  }
  let log: MemoryLog | undefined;
  return {
    options: {
      openLog: async (directory, hooks, open) => {
        log = await openMemoryLog(directory, hooks, open);
        return log;
      },
    },
    hold: () => log?.hold(),
    release: (fail) => log?.release(fail),
  };
}
