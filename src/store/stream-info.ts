/**
 * What the stream API shows of streams and groups (XINFO, XPENDING), with IDs printed as
 * `<ms>-<seq>` and names as UTF-8 strings (with `binary`, as binary strings).
 */
import { type ConsumerGroup, formatId, type Stream } from "../streams/index.js";
import type { Key } from "./encoding.js";
import { countArg, type Name, nameFromInternal, nameToInternal, rangeBound, STREAM_READ_COUNT_MAX } from "./stream-args.js";
import type { StreamEntry } from "./stream-types.js";

export interface PendingOptions {
  start?: string;
  end?: string;
  count?: number;
  consumer?: Name;
  minIdleMs?: number;
  binary?: boolean;
}

export function pendingSummary(group: ConsumerGroup, binary = false) {
  const summary = group.pendingSummary();
  return {
    count: summary.count,
    smallest: summary.smallest === undefined ? null : formatId(summary.smallest),
    largest: summary.largest === undefined ? null : formatId(summary.largest),
    consumers: summary.consumers.map((c) => ({ name: nameFromInternal(c.name, binary), count: c.pending })),
  };
}

export function pendingDetail(group: ConsumerGroup, options: PendingOptions, nowMs: number) {
  const start = rangeBound(options.start ?? "-", "start");
  const end = rangeBound(options.end ?? "+", "end");
  if (start === undefined || end === undefined || start > end) return [];
  const entries = group.pendingRange(
    {
      start,
      end,
      count: countArg(options.count, STREAM_READ_COUNT_MAX, STREAM_READ_COUNT_MAX),
      consumer: options.consumer === undefined ? undefined : nameToInternal(options.consumer, "consumer"),
      minIdleMs: options.minIdleMs,
    },
    nowMs,
  );
  return entries.map((e) => ({
    id: formatId(e.id),
    consumer: nameFromInternal(e.consumer, options.binary === true),
    idleMs: e.idleMs,
    deliveries: e.deliveries,
  }));
}

/** `externalKey`: the dead-letter key as users name keys (the store's key encoding). */
export function groupInfo(group: ConsumerGroup, stream: Stream, externalKey: (internal: string) => Key, binary = false) {
  const info = group.info(stream);
  return {
    name: nameFromInternal(group.name, binary),
    consumers: info.consumers,
    pending: info.pending,
    lastDeliveredId: formatId(group.lastDeliveredId),
    entriesRead: info.entriesRead ?? null,
    lag: info.lag ?? null,
    maxDeliveries: group.maxDeliveries ?? null,
    deadLetterKey: group.deadLetterKey === undefined ? null : externalKey(group.deadLetterKey),
  };
}

export function streamInfo(stream: Stream, first: StreamEntry | undefined, last: StreamEntry | undefined) {
  return {
    length: stream.length,
    bytes: stream.entries.bodyBytes,
    lastGeneratedId: formatId(stream.lastId),
    maxDeletedEntryId: formatId(stream.maxDeletedId),
    entriesAdded: stream.entriesAdded,
    recordedFirstEntryId: formatId(stream.firstId),
    groups: stream.groups.size,
    retention: { ...stream.retention },
    firstEntry: first ?? null,
    lastEntry: last ?? null,
  };
}

/**
 * XINFO STREAM FULL: the stream's facts, `entries` (read by the caller), and each group with
 * its first `limit` pending entries (delivery time in ms since the epoch) and its consumers,
 * each with its first `limit` pending entries.
 */
export function fullInfo(
  stream: Stream,
  entries: StreamEntry[],
  limit: number,
  externalKey: (internal: string) => Key,
  binary: boolean,
) {
  const groups = [...stream.groups.values()].map((group) => {
    const pending = [];
    for (const nack of group.pending.entries()) {
      if (pending.length >= limit) break;
      const consumer = nameFromInternal(nack.consumer.name, binary);
      pending.push({ id: formatId(nack.id), consumer, deliveredMs: nack.deliveredMs, deliveries: nack.deliveries });
    }
    const consumers = group.pending.consumersInOrder().map((consumer) => {
      const own = [];
      for (const [, nack] of consumer.pending.entries()) {
        if (own.length >= limit) break;
        own.push({ id: formatId(nack.id), deliveredMs: nack.deliveredMs, deliveries: nack.deliveries });
      }
      return {
        name: nameFromInternal(consumer.name, binary),
        seenMs: consumer.seenMs,
        pendingCount: consumer.pending.size,
        pending: own,
      };
    });
    return { ...groupInfo(group, stream, externalKey, binary), pendingCount: group.pending.size, pending, consumers };
  });
  const { firstEntry: _first, lastEntry: _last, groups: _count, ...facts } = streamInfo(stream, undefined, undefined);
  return { ...facts, entries, groups };
}
