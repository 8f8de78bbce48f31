// The public API of Logbook: what users may rely on. Everything else may change.
export { isLogbookError, LogbookError, type LogbookErrorCode, type LogbookErrorFields } from "./errors.js";
export type { DirectoryLock, FileHandle, FileSystem, OpenMode, WriteOptions } from "./io/file-system.js";
export { NodeFileSystem } from "./io/node-file-system.js";
export type {
  CommitInfo,
  FollowOptions,
  OpenWriteAheadLog,
  PayloadSource,
  RecordVisitor,
  WaitLevel,
  WalHooks,
  WalOpenOptions,
  WriteAheadLog,
} from "./log/contract.js";
export { Log, type LogEvents, type LogStats } from "./log/log.js";
export type { LogOptions, RecoveryMode, SyncMode } from "./log/options.js";
export type { LogRecord, ReadBatchesOptions, ReadOptions } from "./log/reader.js";
export type { DamageReport, RecoveryReport, TornTailReport } from "./log/recovery.js";
export type { SegmentInfo } from "./log/segments.js";
export type { CheckpointInfo } from "./store/checkpoint.js";
export type { Key, KeyEncoding, ValueEncoding } from "./store/encoding.js";
export type { StoreRecoveryReport } from "./store/recovery.js";
export {
  type BatchOperation,
  type BatchOptions,
  type ScanOptions,
  Store,
  type StoreEntry,
  type StoreOptions,
  type StoreStats,
  type WriteOptions as StoreWriteOptions,
} from "./store/store.js";
