// The public API of Logbook: what users may rely on. Everything else may change.
export { isLogbookError, LogbookError, type LogbookErrorCode, type LogbookErrorFields } from "./errors.js";
export type { DirectoryLock, FileHandle, FileSystem, OpenMode, WriteOptions } from "./io/file-system.js";
export { NodeFileSystem } from "./io/node-file-system.js";
export { Log, type LogEvents, type LogStats } from "./log/log.js";
export type { LogOptions, RecoveryMode, SyncMode } from "./log/options.js";
export type { LogRecord, ReadOptions } from "./log/reader.js";
export type { DamageReport, RecoveryReport, TornTailReport } from "./log/recovery.js";
export type { SegmentInfo } from "./log/segments.js";
export type { CommitInfo, WaitLevel } from "./log/writer.js";
