/**
 * What the store's streams show to metrics and the status page: a summary over every stream
 * (read synchronously from the streams' in-memory index), and the figures of the longest
 * streams one by one, at most STREAM_METRICS_STREAMS_MAX of them and
 * STREAM_METRICS_GROUPS_MAX of their groups, so that the number of labelled series has a
 * ceiling however many streams the store holds.
 *
 * A stream's key is `k/<tenant>/<name>` when a server's tenant made it (namespace.ts); a key
 * of another shape (written by the CLI with --raw) is shown with an empty tenant.
 */
import { isLogbookError } from "../../errors.js";
import type { Key, Store } from "../../store/index.js";

/** Streams labelled one by one in the metrics (the longest ones). */
export const STREAM_METRICS_STREAMS_MAX = 50;
/** Groups of those streams labelled one by one. */
export const STREAM_METRICS_GROUPS_MAX = 200;
/** Distinct dead-letter streams whose entries are counted. */
export const STREAM_METRICS_DEAD_LETTER_STREAMS_MAX = 200;

export interface StreamSummary {
  streams: number;
  /** Entries delivered to a group and not yet acknowledged, over every group. */
  pending: number;
  /** The largest lag of any group (entries not yet delivered to it); 0 when there is none known. */
  lagMax: number;
  /** Readers blocked in the store now (every front end's). */
  blockedReaders: number;
}

export interface LabelledStream {
  tenant: string;
  stream: string;
  length: number;
  bytes: number;
  groups: { group: string; lag: number | null; pending: number }[];
}

export interface StreamSnapshot {
  labelled: LabelledStream[];
  /** Entries ever added to the streams some group dead-letters into (dead-lettered entries, while nothing else adds to them). */
  deadLettered: number;
}

function keyOf(key: unknown): string {
  return typeof key === "string" ? key : Buffer.from(key as Uint8Array).toString("utf8");
}

function tenantAndName(key: string): { tenant: string; stream: string } {
  const match = /^k\/([^/]+)\/(.*)$/s.exec(key);
  return match === null ? { tenant: "", stream: key } : { tenant: match[1] as string, stream: match[2] as string };
}

export function streamSummary(store: Store): StreamSummary {
  const keys = store.streams.keys();
  let pending = 0;
  let lagMax = 0;
  for (const key of keys) {
    for (const group of store.streams.groups(key)) {
      pending += group.pending;
      lagMax = Math.max(lagMax, group.lag ?? 0);
    }
  }
  return { streams: keys.length, pending, lagMax, blockedReaders: store.streams.blockedReaders };
}

/** The longest streams' figures, and the dead-lettered entries over every group. */
export async function streamSnapshot(store: Store): Promise<StreamSnapshot> {
  const streams = store.streams;
  const keys = streams.keys().map((key) => ({ key, length: streams.length(key) }));
  keys.sort((a, b) => b.length - a.length);
  const labelled: LabelledStream[] = [];
  let groupsLeft = STREAM_METRICS_GROUPS_MAX;
  for (const { key, length } of keys.slice(0, STREAM_METRICS_STREAMS_MAX)) {
    const info = await infoOf(store, key);
    if (info === undefined) continue;
    const groups = streams
      .groups(key)
      .slice(0, Math.max(0, groupsLeft))
      .map((g) => ({ group: g.name, lag: g.lag, pending: g.pending }));
    groupsLeft -= groups.length;
    labelled.push({ ...tenantAndName(keyOf(key)), length, bytes: info.bytes, groups });
  }
  return { labelled, deadLettered: await deadLetteredEntries(store) };
}

async function deadLetteredEntries(store: Store): Promise<number> {
  const targets = new Set<Key>();
  for (const key of store.streams.keys()) {
    for (const group of store.streams.groups(key)) {
      if (group.deadLetterKey !== null && targets.size < STREAM_METRICS_DEAD_LETTER_STREAMS_MAX) targets.add(group.deadLetterKey);
    }
  }
  let total = 0;
  for (const key of targets) total += (await infoOf(store, key))?.entriesAdded ?? 0;
  return total;
}

/** The stream's info, or undefined when it is gone (deleted, or replaced by a value, since it was listed). */
async function infoOf(store: Store, key: Parameters<Store["streams"]["info"]>[0]) {
  try {
    return await store.streams.info(key);
  } catch (error) {
    if (isLogbookError(error, "LOGBOOK_NOT_FOUND") || isLogbookError(error, "LOGBOOK_WRONG_TYPE")) return undefined;
    throw error;
  }
}
