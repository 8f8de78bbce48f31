/**
 * What the stream API shows of streams and groups (XINFO, XPENDING), with IDs printed as
 * `<ms>-<seq>` and names as UTF-8 strings.
 */
import { type ConsumerGroup, formatId, type Stream } from "../streams/index.js";
import type { Key } from "./encoding.js";
import { countArg, nameFromInternal, nameToInternal, rangeBound, STREAM_READ_COUNT_MAX } from "./stream-args.js";
import type { StreamEntry } from "./stream-types.js";

export interface PendingOptions {
  start?: string;
  end?: string;
  count?: number;
  consumer?: string;
  minIdleMs?: number;
}

export function pendingSummary(group: ConsumerGroup) {
  const summary = group.pendingSummary();
  return {
    count: summary.count,
    smallest: summary.smallest === undefined ? null : formatId(summary.smallest),
    largest: summary.largest === undefined ? null : formatId(summary.largest),
    consumers: summary.consumers.map((c) => ({ name: nameFromInternal(c.name), count: c.pending })),
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
    consumer: nameFromInternal(e.consumer),
    idleMs: e.idleMs,
    deliveries: e.deliveries,
  }));
}

/** `externalKey`: the dead-letter key as users name keys (the store's key encoding). */
export function groupInfo(group: ConsumerGroup, stream: Stream, externalKey: (internal: string) => Key) {
  const info = group.info(stream);
  return {
    name: nameFromInternal(group.name),
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
