/**
 * The front door of src/log: what the layers above may name. The store reaches its log only
 * through the WriteAheadLog seam (contract.ts); applications use Log.
 */
export { crc32, crc32Range } from "./checksum.js";
export type {
  CommitInfo,
  FollowOptions,
  LogRecord,
  LogStats,
  OpenWriteAheadLog,
  PayloadSource,
  RecordVisitor,
  WaitLevel,
  WalHooks,
  WalOpenOptions,
  WriteAheadLog,
} from "./contract.js";
export { openLocalWal } from "./local-wal.js";
export { Log, type LogEvents } from "./log.js";
export type { LogOptions, RecoveryMode, SyncMode } from "./options.js";
export type { ReadBatchesOptions, ReadOptions } from "./reader.js";
export type { DamageReport, RecoveryReport, TornTailReport } from "./recovery.js";
export type { SegmentInfo } from "./segments.js";
export { checkSequenceInput } from "./sequence-input.js";
