/**
 * What a consumer group needs to know about its stream to keep `entries-read` and to compute
 * its lag, and the two rules Redis uses for them (t_stream.c: streamRangeHasTombstones and
 * streamEstimateDistanceFromFirstEverEntry). An entries-read counter is a number of entries
 * counted from the first entry ever added; `undefined` is Redis's -1: not known.
 */
import { MAX_ID, MIN_ID, type StreamId } from "./stream-id.js";

export interface StreamFacts {
  /** Entries ever added to the stream (XADD count, or as XSETID set it). */
  readonly entriesAdded: number;
  /** The largest ID ever deleted by XDEL, MIN_ID when none. Trimming does not change it. */
  readonly maxDeletedEntryId: StreamId;
  /** The first entry's ID, MIN_ID when the stream is empty. */
  readonly firstId: StreamId;
  /** The stream's last ID (kept when the entry holding it is deleted). */
  readonly lastId: StreamId;
  /** Entries in the stream now. */
  readonly length: number;
}

/** Whether a deleted entry may lie in [start, end] (end: MAX_ID when undefined). */
export function rangeHasTombstones(facts: StreamFacts, start: StreamId, end: StreamId = MAX_ID): boolean {
  if (facts.length === 0 || facts.maxDeletedEntryId === MIN_ID) return false;
  if (facts.firstId > facts.maxDeletedEntryId) return false;
  return start <= facts.maxDeletedEntryId && facts.maxDeletedEntryId <= end;
}

/**
 * The entries-read counter of `id`: its distance from the first entry ever added, when it can
 * be known (the last ID; the first entry or before it with no deletion past the first entry;
 * anything in a stream nothing was ever added to), else undefined.
 */
export function estimateEntriesRead(facts: StreamFacts, id: StreamId): number | undefined {
  if (facts.entriesAdded === 0) return 0;
  if (facts.length === 0 && id <= facts.lastId) return facts.entriesAdded;
  if (id === facts.lastId) return facts.entriesAdded;
  if (id > facts.lastId) return undefined;
  if (facts.maxDeletedEntryId === MIN_ID || facts.maxDeletedEntryId < facts.firstId) {
    if (id < facts.firstId) return facts.entriesAdded - facts.length;
    if (id === facts.firstId) return facts.entriesAdded - facts.length + 1;
  }
  return undefined;
}

/**
 * The group's lag (entries not yet delivered to it), or undefined when it cannot be known, as
 * XINFO GROUPS shows it (streamReplyWithCGLag).
 */
export function groupLag(facts: StreamFacts, lastDeliveredId: StreamId, entriesRead: number | undefined): number | undefined {
  if (facts.entriesAdded === 0) return 0;
  if (entriesRead !== undefined && !rangeHasTombstones(facts, lastDeliveredId)) return facts.entriesAdded - entriesRead;
  const estimate = estimateEntriesRead(facts, lastDeliveredId);
  return estimate === undefined ? undefined : facts.entriesAdded - estimate;
}

/** The counter after delivering `id`, the next entry past the group's last delivered ID. */
export function entriesReadAfter(facts: StreamFacts, id: StreamId, entriesRead: number | undefined): number | undefined {
  if (entriesRead !== undefined && !rangeHasTombstones(facts, id)) return entriesRead + 1;
  if (facts.entriesAdded !== 0) return estimateEntriesRead(facts, id);
  return entriesRead;
}
