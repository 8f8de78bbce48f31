/**
 * The front door of src/io: the one small interface all file I/O goes through, its node:fs
 * implementation, time as the layers above read it, and the blocking calls the log's writer
 * thread makes on a descriptor.
 */
export { type Clock, systemClock, type Timer } from "./clock.js";
export type { DirectoryLock, FileHandle, FileSystem, OpenMode, WriteOptions } from "./file-system.js";
export { NodeFileSystem } from "./node-file-system.js";
export { datasyncSync, writeChunksSync } from "./sync-ops.js";
