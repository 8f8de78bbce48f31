/**
 * The front door of src/store: the key-value store on a write-ahead log, and what the layers
 * above may name of it.
 */
export type { CheckpointInfo } from "./checkpoint.js";
export type { Key, KeyEncoding, ValueEncoding } from "./encoding.js";
export type { StoreRecoveryReport } from "./recovery.js";
export {
  type BatchOperation,
  type BatchOptions,
  localLogOpener,
  type ScanOptions,
  Store,
  type StoreEntry,
  type StoreOptions,
  type StoreStats,
  type WriteOptions,
} from "./store.js";
export { holdsCheckpoints } from "./store-directory.js";
