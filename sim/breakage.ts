/**
 * Deliberately broken variants: each must be caught by the crash simulation. Those that live
 * in the disk layer are made by wrapping the simulated disk; those that live in the log's or the
 * store's own logic are injected into the one log or store they break (a different recovery
 * rules table, a wrapped write-ahead log), never switched on globally.
 */
import type { FileSystem } from "../src/io/file-system.js";
import type { LogOptions } from "../src/log/options.js";
import type { StoreOptions } from "../src/store/store.js";
import { wrapFileSystem } from "../src/testing/index.js";
import { openLogFreeingBeforeManifest } from "./broken-log.js";
import { keepTornTailRules } from "./broken-recovery.js";

export const BREAKAGES = [
  "skip-fdatasync",
  "skip-directory-fsync",
  "ack-before-fdatasync",
  "retry-fsync-after-eio",
  "keep-torn-tail",
  "free-log-before-manifest",
] as const;
export type Breakage = (typeof BREAKAGES)[number];

export function breakFileSystem(fs: FileSystem, breakage: Breakage | undefined): FileSystem {
  switch (breakage) {
    case "skip-fdatasync":
      return wrapFileSystem(fs, {
        handle: (inner) => ({ write: (data, at) => inner.write(data, at), datasync: async () => undefined }),
      });
    case "skip-directory-fsync":
      return wrapFileSystem(fs, { syncDirectory: async () => undefined });
    case "ack-before-fdatasync":
      // The fdatasync happens, but only after the caller was told it had.
      return wrapFileSystem(fs, {
        handle: (inner) => ({
          write: async (data, at, options) => {
            await inner.write(data, at);
            if (options?.datasync === true) setImmediate(() => inner.datasync().catch(() => undefined));
          },
          datasync: async () => {
            setImmediate(() => inner.datasync().catch(() => undefined));
          },
        }),
      });
    case "retry-fsync-after-eio":
      // The PostgreSQL bug of 2018: after EIO the failed pages are clean, so the retry "succeeds".
      return wrapFileSystem(fs, {
        handle: (inner) => ({
          datasync: async () => {
            try {
              await inner.datasync();
            } catch {
              await inner.datasync();
            }
          },
        }),
      });
    default:
      return fs;
  }
}

/** The log options that make the log-level variants: a different recovery rules table. */
export function breakLogOptions(breakage: Breakage | undefined): Pick<LogOptions, "recoveryRules"> {
  return breakage === "keep-torn-tail" ? { recoveryRules: keepTornTailRules } : {};
}

/** `options` for a store, with the store-level variant's log (freeing it before the manifest) when asked. */
export function breakStoreOptions(options: StoreOptions, breakage: Breakage | undefined): StoreOptions {
  return breakage === "free-log-before-manifest" ? { ...options, openLog: openLogFreeingBeforeManifest(options) } : options;
}
