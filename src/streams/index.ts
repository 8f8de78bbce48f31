/**
 * The front door of src/streams: the stream value type (entry IDs, entries on disk with their
 * index in memory, consumer groups and their pending lists), which the store dispatches to.
 */

export { decodeFields, ENTRY_BODY_BYTES_MAX, ENTRY_FIELDS_MAX, encodeFields } from "./entry-body.js";
export { DATA_SEGMENT_BYTES_DEFAULT, EntryStorage, type EntryStorageOptions } from "./entry-storage.js";
export { checkSavedEntries, type SavedEntries, type SavedStream } from "./saved-entries.js";
export { SCAN_BATCH_BYTES, SCAN_BATCH_ENTRIES, type StreamEntries } from "./stream-entries.js";
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
