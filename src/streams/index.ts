/**
 * The front door of src/streams: the stream value type (entry IDs, entries on disk with their
 * index in memory, consumer groups and their pending lists), which the store dispatches to.
 */

export { decodeStreamCommand, encodeStreamCommand } from "./command-codec.js";
export {
  ConsumerGroup,
  type ConsumerGroupOptions,
  type ConsumerInfo,
  type ConsumerState,
  type GroupInfo,
  type PendingRangeEntry,
  type PendingRangeQuery,
  type PendingSummary,
} from "./consumer-group.js";
export { decodeFieldPairs, decodeFields, ENTRY_BODY_BYTES_MAX, ENTRY_FIELDS_MAX, encodeFields } from "./entry-body.js";
export { DATA_SEGMENT_BYTES_DEFAULT, EntryStorage, type EntryStorageOptions } from "./entry-storage.js";
export type {
  AutoClaimResult,
  ClaimOptions,
  ClaimResult,
  DeadLetterCheck,
  EntryExists,
  HistoryEntry,
  HistoryResult,
} from "./group-claim.js";
export { decodeGroups, encodeGroups, GROUPS_FORMAT_VERSION } from "./group-codec.js";
export {
  AUTOCLAIM_ATTEMPTS_FACTOR,
  CONSUMER_NAME_BYTES_MAX,
  DEAD_LETTER_KEY_BYTES_MAX,
  GROUP_CONSUMERS_MAX,
  GROUP_COUNT_MAX,
  GROUP_IDS_PER_CALL_MAX,
  GROUP_NAME_BYTES_MAX,
} from "./group-limits.js";
export type { PendingEntry } from "./pending-list.js";
export { checkSavedEntries, type SavedEntries, type SavedStream } from "./saved-entries.js";
export { Stream } from "./stream.js";
export type { ApplyResult, Delivery } from "./stream-apply.js";
export type {
  GroupStart,
  Retention,
  StreamCommand,
  TrimSpec,
} from "./stream-command.js";
export { SCAN_BATCH_BYTES, SCAN_BATCH_ENTRIES, type ScannedBodies, type StreamEntries } from "./stream-entries.js";
export { wrongType } from "./stream-errors.js";
export type { StreamFacts } from "./stream-facts.js";
export {
  assignId,
  formatId,
  type IdRequest,
  idFromParts,
  idMs,
  idSeq,
  isStreamId,
  MAX_ID,
  MIN_ID,
  nextId,
  parseId,
  parseIdRequest,
  previousId,
  type StreamId,
} from "./stream-id.js";
export { DEFAULT_PRODUCER_WINDOW, type SavedStreams, StreamSpace } from "./stream-space.js";
