/**
 * The reading half of the stream API: entries with their bodies (read from disk, returned once
 * durable), blocking until a commit wakes the reader, and the bodies a group command carries
 * for its dead-letter moves.
 */
import {
  type Delivery,
  decodeFieldPairs,
  decodeFields,
  formatId,
  MAX_ID,
  nextId,
  type ScannedBodies,
  type Stream,
  type StreamId,
} from "../streams/index.js";
import { fieldsFromInternal, msArg, nameFromInternal } from "./stream-args.js";
import type { StreamHost } from "./stream-host.js";
import type { StreamEntry } from "./stream-types.js";

/** Whether a `>` group read on `key` could deliver something now, or a write to it is still on its way. */
export function hasNew(host: StreamHost, key: string, group: string): boolean {
  if (host.queued(key)) return true;
  const stream = host.space.get(key);
  const g = stream?.groups.get(group);
  if (stream === undefined || g === undefined) return true;
  const after = nextId(g.lastDeliveredId);
  return after !== undefined && stream.entries.ids(after, MAX_ID, 1, false).length > 0;
}

/**
 * Waits on `keys` until a write to one of them is applied (true) or `deadline` passes (false).
 * `onBlock` is told true as the reader starts waiting and false once it stops, however it stops.
 */
export async function block(
  host: StreamHost,
  keys: string[],
  deadline: number | undefined,
  signal: AbortSignal | undefined,
  onBlock?: (blocked: boolean) => void,
): Promise<boolean> {
  if (deadline === undefined) return false;
  const remaining = deadline === 0 ? 0 : deadline - host.clock.monotonicMs();
  if (deadline !== 0 && remaining <= 0) return false;
  const waiting = host.waiters.wait(keys, Math.max(remaining, deadline === 0 ? 0 : 1), signal);
  if (onBlock === undefined) return waiting;
  onBlock(true);
  try {
    return await waiting;
  } finally {
    onBlock(false);
  }
}

/** The entries with these IDs (null fields for one no longer there); with `binary`, fields as binary strings. */
export async function entriesOf(
  host: StreamHost,
  stream: Stream,
  ids: readonly StreamId[],
  binary = false,
): Promise<StreamEntry[]> {
  if (ids.length === 0) return [];
  const bodies = await stream.entries.read(ids);
  await host.durable();
  return ids.map((id, i) => {
    const body = bodies[i];
    return { id: formatId(id), fields: body === undefined ? null : fieldsFromInternal(decodeFields(body), binary) };
  });
}

/** A scan's batch as the entries the API returns (those whose file is gone left out). */
export function scannedEntries(found: ScannedBodies): StreamEntry[] {
  const entries: StreamEntry[] = [];
  const { ids, buffers, starts, bodyBytes } = found;
  for (let i = 0; i < ids.length; i++) {
    const buffer = buffers[i];
    if (buffer === undefined) continue;
    const start = starts[i] as number;
    entries.push({ id: formatId(ids[i] as StreamId), fields: decodeFieldPairs(buffer, start, start + (bodyBytes[i] as number)) });
  }
  return entries;
}

export async function deliveryEntries(host: StreamHost, key: string, delivery: Delivery, justId: boolean, binary = false) {
  const stream = host.space.get(key);
  const entries =
    justId || stream === undefined
      ? delivery.ids.map((id) => ({ id: formatId(id), fields: null }))
      : await entriesOf(host, stream, delivery.ids, binary);
  return {
    entries,
    deleted: delivery.deleted.map(formatId),
    deadLettered: delivery.deadLettered.map((e) => ({
      ...e,
      id: formatId(e.id),
      consumer: nameFromInternal(e.consumer, binary),
    })),
  };
}

/**
 * Bodies (id, body, …) of the pending entries from `from` that reached maxDeliveries: the first
 * `count` of the group's (what an autoclaim scans), or of `consumer`'s (what a history read
 * visits), so that every entry the command will look at carries its body.
 */
export async function deadLetterBodies(
  host: StreamHost,
  key: string,
  group: string,
  from: StreamId,
  count: number,
  consumer?: string,
): Promise<string[]> {
  const g = host.space.get(key)?.groups.get(group);
  if (g?.maxDeliveries === undefined || g.deadLetterKey === undefined) return [];
  const due = g.pendingRange({ start: from, end: MAX_ID, count, consumer }, host.clock.wallMs());
  return deadLetterBodiesOf(
    host,
    key,
    group,
    due.filter((e) => e.deliveries >= (g.maxDeliveries as number)).map((e) => e.id),
  );
}

export async function deadLetterBodiesOf(
  host: StreamHost,
  key: string,
  group: string,
  ids: readonly StreamId[],
): Promise<string[]> {
  const stream = host.space.get(key);
  const g = stream?.groups.get(group);
  if (stream === undefined || g?.maxDeliveries === undefined || g.deadLetterKey === undefined || ids.length === 0) return [];
  const bodies = await stream.entries.read(ids);
  const out: string[] = [];
  for (const [i, id] of ids.entries()) {
    const body = bodies[i];
    if (body !== undefined) out.push(id, Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1"));
  }
  return out;
}

/** undefined: do not block; 0: block without a time limit; else the monotonic time to give up at. */
export function blockDeadline(host: StreamHost, blockMs: number | undefined): number | undefined {
  if (msArg(blockMs, "blockMs") === undefined) return undefined;
  return blockMs === 0 ? 0 : host.clock.monotonicMs() + (blockMs as number);
}
