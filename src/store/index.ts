/**
 * The front door of src/store: the key-value store on a write-ahead log, and what the layers
 * above may name of it.
 */
export type { Change } from "./change.js";
export type { ChangesOptions } from "./change-feed.js";
export type { CheckpointInfo } from "./checkpoint.js";
export type { Key, KeyEncoding, ValueEncoding } from "./encoding.js";
export { DEFAULT_EXPIRY_SWEEP_MS, EXPIRY_SWEEP_KEYS_MAX, type ExpirySweeper } from "./expiry-sweeper.js";
export type { CreateCursorOptions, CursorDroppedEvent, FeedCursorInfo, FeedCursors } from "./feed-cursors.js";
export type {
  KeyKind,
  Keyspace,
  KeyspaceEntry,
  KeyspaceOp,
  KeyspaceScanOptions,
  KeyspaceWriteOptions,
} from "./keyspace.js";
export type { StoreRecoveryReport } from "./recovery.js";
export {
  type BatchOperation,
  type BatchOptions,
  localLogOpener,
  type PutOptions,
  type ScanOptions,
  Store,
  type StoreEntry,
  type StoreOptions,
  type StoreSnapshot,
  type StoreStats,
  type StoreValue,
  type WriteOptions,
} from "./store.js";
export { holdsCheckpoints } from "./store-directory.js";
export {
  type FieldInput,
  type Name,
  type RetentionOptions,
  STREAM_FIELDS_MAX,
  STREAM_NAME_BYTES_MAX,
  STREAM_RANGE_COUNT_MAX,
  STREAM_READ_COUNT_MAX,
  type TrimOptions,
} from "./stream-args.js";
export type { StreamChange } from "./stream-change.js";
export type { PendingOptions } from "./stream-info.js";
export type {
  AddOptions,
  BinaryOption,
  ClaimOptions,
  CreateGroupOptions,
  GroupReadOptions,
  StreamBatchOperation,
  StreamEntry,
  StreamRead,
  StreamReadOptions,
} from "./stream-types.js";
export { BLOCKED_READERS_MAX } from "./stream-waiters.js";
export type { Streams } from "./streams-api.js";
