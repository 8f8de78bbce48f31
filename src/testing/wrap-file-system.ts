/**
 * A FileSystem that delegates to another, with chosen methods replaced: for broken or
 * restricted disk layers in tests, simulations and benchmarks. Handles never expose a
 * descriptor, so the log commits through the FileHandle methods (on the event loop), where
 * the replacements apply.
 */
import type { FileHandle, FileSystem } from "../io/index.js";

export interface FileSystemReplacements {
  /** Given the real handle, the methods its wrapper does differently. */
  handle?: (inner: FileHandle) => Partial<Pick<FileHandle, "write" | "datasync">>;
  syncDirectory?: FileSystem["syncDirectory"];
}

export function wrapFileSystem(inner: FileSystem, replace: FileSystemReplacements = {}): FileSystem {
  const wrap = (handle: FileHandle): FileHandle => ({
    path: handle.path,
    read: (buffer, position) => handle.read(buffer, position),
    write: (data, position, options) => handle.write(data, position, options),
    datasync: () => handle.datasync(),
    sizeBytes: () => handle.sizeBytes(),
    truncate: (bytes) => handle.truncate(bytes),
    close: () => handle.close(),
    ...replace.handle?.(handle),
  });
  return {
    open: async (path, mode) => wrap(await inner.open(path, mode)),
    list: (directory) => inner.list(directory),
    mkdir: (directory) => inner.mkdir(directory),
    rename: (from, to) => inner.rename(from, to),
    unlink: (path) => inner.unlink(path),
    syncDirectory: replace.syncDirectory ?? ((directory) => inner.syncDirectory(directory)),
    lockDirectory: (directory) => inner.lockDirectory(directory),
    ...(inner.close === undefined ? {} : { close: () => (inner.close as () => Promise<void>)() }),
  };
}
