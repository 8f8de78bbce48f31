/**
 * The front door of src/streams: the stream value type (entry IDs, entries on disk with their
 * index in memory, consumer groups and their pending lists), which the store dispatches to.
 */
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
