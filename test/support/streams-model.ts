/**
 * A reference model of the store's streams, for the model-based test: Redis Streams' semantics
 * written plainly, with IDs as bigints (ms × 2^64 + seq), arrays and maps, and no I/O. Each
 * operation returns what the store must resolve, or `{ error: code }` for what it must refuse.
 * The entries-read and lag rules are Redis's (t_stream.c), as the store follows them.
 */

export const SEQ = 1n << 64n;
const U64 = SEQ - 1n;
export const MAX = (U64 << 64n) | U64;

export function formatModelId(id: bigint): string {
  return `${id >> 64n}-${id & U64}`;
}

export function parseModelId(text: string): bigint {
  const [ms, seq] = text.split("-");
  return (BigInt(ms as string) << 64n) | BigInt(seq ?? "0");
}

export type Fields = [string, string][];
export interface ModelError {
  error: string;
}

export interface MNack {
  consumer: string;
  deliveredMs: number;
  deliveries: number;
}

export interface MConsumer {
  seenMs: number;
  activeMs: number | undefined;
}

export interface MGroup {
  lastDelivered: bigint;
  entriesRead: number | undefined;
  pending: Map<bigint, MNack>;
  consumers: Map<string, MConsumer>;
  maxDeliveries: number | undefined;
  deadLetterKey: string | undefined;
}

export interface MStream {
  entries: Map<bigint, Fields>;
  lastId: bigint;
  entriesAdded: number;
  maxDeletedId: bigint;
  producers: Map<string, bigint>;
  groups: Map<string, MGroup>;
}

export function ids(stream: MStream): bigint[] {
  return [...stream.entries.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const sorted = (values: Iterable<bigint>) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

export function pendingIds(group: MGroup, consumer?: string): bigint[] {
  return sorted([...group.pending].filter(([, n]) => consumer === undefined || n.consumer === consumer).map(([id]) => id));
}

const err = (code: string): ModelError => ({ error: code });

export interface Delivered {
  ids: string[];
  deleted: string[];
  deadLettered: string[];
  nextId?: string;
}

export class StreamsModel {
  readonly streams = new Map<string, MStream>();
  readonly strings = new Map<string, string>();

  constructor(
    readonly producerWindow: number,
    public nowMs: number,
  ) {}

  private newStream(key: string): MStream {
    const s: MStream = {
      entries: new Map(),
      lastId: 0n,
      entriesAdded: 0,
      maxDeletedId: 0n,
      producers: new Map(),
      groups: new Map(),
    };
    this.streams.set(key, s);
    return s;
  }

  put(key: string, value: string): void {
    this.streams.delete(key);
    this.strings.set(key, value);
  }

  deleteKey(key: string): void {
    this.streams.delete(key);
    this.strings.delete(key);
  }

  add(
    key: string,
    fields: Fields,
    request: { kind: "auto" } | { kind: "ms"; ms: bigint } | { kind: "explicit"; id: bigint },
    options: { noMkStream?: boolean; producerId?: string; maxLen?: number },
  ): string | null | ModelError {
    if (this.strings.has(key)) return err("LOGBOOK_WRONG_TYPE");
    const existing = this.streams.get(key);
    if (existing === undefined && options.noMkStream === true) return null;
    const known = options.producerId === undefined ? undefined : existing?.producers.get(options.producerId);
    if (known !== undefined) return formatModelId(known);
    const last = existing?.lastId ?? 0n;
    let id: bigint | undefined;
    if (request.kind === "explicit") id = request.id > last ? request.id : undefined;
    else if (request.kind === "ms") {
      const lastMs = last >> 64n;
      if (request.ms > lastMs) id = request.ms << 64n;
      else if (request.ms === lastMs && (last & U64) !== U64) id = last + 1n;
    } else {
      const now = BigInt(this.nowMs);
      id = now > last >> 64n ? now << 64n : last === MAX ? undefined : last + 1n;
    }
    if (id === undefined) return err("LOGBOOK_INVALID_ARGUMENT");
    const stream = existing ?? this.newStream(key);
    stream.entries.set(id, fields);
    stream.lastId = id;
    stream.entriesAdded++;
    if (options.producerId !== undefined) {
      stream.producers.set(options.producerId, id);
      while (stream.producers.size > this.producerWindow) stream.producers.delete(stream.producers.keys().next().value as string);
    }
    if (options.maxLen !== undefined) this.trimTo(stream, options.maxLen);
    return formatModelId(id);
  }

  private trimTo(stream: MStream, maxLen: number): number {
    const all = ids(stream);
    const drop = all.slice(0, Math.max(0, all.length - maxLen));
    for (const id of drop) stream.entries.delete(id);
    return drop.length;
  }

  delete(key: string, list: bigint[]): number | ModelError {
    if (this.strings.has(key)) return err("LOGBOOK_WRONG_TYPE");
    const stream = this.streams.get(key);
    if (stream === undefined) return 0;
    let n = 0;
    for (const id of list) {
      if (!stream.entries.delete(id)) continue;
      n++;
      if (id > stream.maxDeletedId) stream.maxDeletedId = id;
    }
    return n;
  }

  trim(key: string, spec: { maxLen: number } | { minId: bigint }): number | ModelError {
    if (this.strings.has(key)) return err("LOGBOOK_WRONG_TYPE");
    const stream = this.streams.get(key);
    if (stream === undefined) return 0;
    if ("maxLen" in spec) return this.trimTo(stream, spec.maxLen);
    const drop = ids(stream).filter((id) => id < spec.minId);
    for (const id of drop) stream.entries.delete(id);
    return drop.length;
  }

  setId(key: string, id: bigint): true | ModelError {
    if (this.strings.has(key)) return err("LOGBOOK_WRONG_TYPE");
    const stream = this.streams.get(key);
    if (stream === undefined) return err("LOGBOOK_NOT_FOUND");
    const last = ids(stream).at(-1);
    if (last !== undefined && id < last) return err("LOGBOOK_INVALID_ARGUMENT");
    stream.lastId = id;
    return true;
  }

  createGroup(
    key: string,
    group: string,
    start: "$" | "0",
    options: { mkStream: boolean; maxDeliveries?: number; deadLetterKey?: string },
  ): true | ModelError {
    if (this.strings.has(key)) return err("LOGBOOK_WRONG_TYPE");
    const existing = this.streams.get(key);
    if (existing === undefined && !options.mkStream) return err("LOGBOOK_NOT_FOUND");
    if (existing?.groups.has(group)) return err("LOGBOOK_GROUP_EXISTS");
    const stream = existing ?? this.newStream(key);
    stream.groups.set(group, {
      lastDelivered: start === "$" ? stream.lastId : 0n,
      entriesRead: start === "$" ? stream.entriesAdded : undefined,
      pending: new Map(),
      consumers: new Map(),
      maxDeliveries: options.maxDeliveries,
      deadLetterKey: options.deadLetterKey,
    });
    return true;
  }

  destroyGroup(key: string, group: string): boolean | ModelError {
    if (this.strings.has(key)) return err("LOGBOOK_WRONG_TYPE");
    return this.streams.get(key)?.groups.delete(group) ?? false;
  }

  deleteConsumer(key: string, group: string, consumer: string): number | ModelError {
    const found = this.groupOf(key, group);
    if ("error" in found) return found;
    const owned = pendingIds(found.group, consumer);
    for (const id of owned) found.group.pending.delete(id);
    found.group.consumers.delete(consumer);
    return owned.length;
  }

  ack(key: string, group: string, list: bigint[]): number | ModelError {
    if (this.strings.has(key)) return err("LOGBOOK_WRONG_TYPE");
    const g = this.streams.get(key)?.groups.get(group);
    if (g === undefined) return 0;
    let n = 0;
    for (const id of list) if (g.pending.delete(id)) n++;
    return n;
  }

  private groupOf(key: string, group: string): { stream: MStream; group: MGroup } | ModelError {
    if (this.strings.has(key)) return err("LOGBOOK_WRONG_TYPE");
    const stream = this.streams.get(key);
    const g = stream?.groups.get(group);
    if (stream === undefined || g === undefined) return err("LOGBOOK_NO_GROUP");
    return { stream, group: g };
  }

  private see(group: MGroup, consumer: string): MConsumer {
    let c = group.consumers.get(consumer);
    if (c === undefined) {
      c = { seenMs: this.nowMs, activeMs: undefined };
      group.consumers.set(consumer, c);
    }
    c.seenMs = this.nowMs;
    return c;
  }

  /** XREADGROUP `>`: the IDs delivered. */
  readNew(key: string, group: string, consumer: string, count: number): string[] | ModelError {
    const found = this.groupOf(key, group);
    if ("error" in found) return found;
    const { stream, group: g } = found;
    const delivered = ids(stream)
      .filter((id) => id > g.lastDelivered)
      .slice(0, count);
    // As Redis does: a read that finds nothing new neither creates nor sees the consumer.
    if (delivered.length === 0) return [];
    const owner = this.see(g, consumer);
    for (const id of delivered) {
      g.entriesRead = entriesReadAfter(stream, id, g.entriesRead);
      g.lastDelivered = id;
      g.pending.set(id, { consumer, deliveredMs: this.nowMs, deliveries: 1 });
      owner.activeMs = this.nowMs;
    }
    return delivered.map(formatModelId);
  }

  /** Takes a pending entry to the group's dead-letter stream when the rule says so. */
  private deadLetter(key: string, stream: MStream, g: MGroup, groupName: string, id: bigint): boolean {
    const nack = g.pending.get(id) as MNack;
    const target = g.deadLetterKey;
    if (g.maxDeliveries === undefined || target === undefined || nack.deliveries < g.maxDeliveries) return false;
    if (target === key || this.strings.has(target)) return false;
    const fields = stream.entries.get(id);
    if (fields === undefined) return false;
    const letters = this.streams.get(target) ?? this.newStream(target);
    const now = BigInt(this.nowMs);
    const last = letters.lastId;
    const letterId = now > last >> 64n ? now << 64n : last + 1n;
    letters.entries.set(letterId, [
      ...fields,
      ["dead-letter-stream", key],
      ["dead-letter-id", formatModelId(id)],
      ["dead-letter-group", groupName],
      ["dead-letter-consumer", nack.consumer],
      ["dead-letter-deliveries", String(nack.deliveries)],
      ["dead-letter-last-delivered-ms", String(nack.deliveredMs)],
    ]);
    letters.lastId = letterId;
    letters.entriesAdded++;
    g.pending.delete(id);
    return true;
  }

  /** XREADGROUP with an ID: the consumer's own pending entries from `from` (null fields: gone). */
  readHistory(key: string, group: string, consumer: string, from: bigint, count: number): Delivered | ModelError {
    const found = this.groupOf(key, group);
    if ("error" in found) return found;
    const { stream, group: g } = found;
    this.see(g, consumer);
    const out: Delivered = { ids: [], deleted: [], deadLettered: [] };
    for (const id of pendingIds(g, consumer)
      .filter((i) => i >= from)
      .slice(0, count)) {
      if (!stream.entries.has(id)) {
        out.ids.push(formatModelId(id));
        continue;
      }
      if (this.deadLetter(key, stream, g, group, id)) {
        out.deadLettered.push(formatModelId(id));
        continue;
      }
      const nack = g.pending.get(id) as MNack;
      nack.deliveredMs = this.nowMs;
      nack.deliveries++;
      out.ids.push(formatModelId(id));
    }
    return out;
  }

  claim(key: string, group: string, consumer: string, minIdle: number, list: bigint[]): Delivered | ModelError {
    const found = this.groupOf(key, group);
    if ("error" in found) return found;
    const { stream, group: g } = found;
    const owner = this.see(g, consumer);
    const out: Delivered = { ids: [], deleted: [], deadLettered: [] };
    for (const id of list) {
      const nack = g.pending.get(id);
      if (!stream.entries.has(id)) {
        if (nack !== undefined) {
          g.pending.delete(id);
          out.deleted.push(formatModelId(id));
        }
        continue;
      }
      if (nack === undefined) continue;
      if (minIdle !== 0 && this.nowMs - nack.deliveredMs < minIdle) continue;
      if (this.deadLetter(key, stream, g, group, id)) {
        out.deadLettered.push(formatModelId(id));
        continue;
      }
      nack.consumer = consumer;
      nack.deliveredMs = this.nowMs;
      nack.deliveries++;
      out.ids.push(formatModelId(id));
      owner.activeMs = this.nowMs;
    }
    return out;
  }

  autoClaim(key: string, group: string, consumer: string, minIdle: number, count: number): Delivered | ModelError {
    const found = this.groupOf(key, group);
    if ("error" in found) return found;
    const { stream, group: g } = found;
    const owner = this.see(g, consumer);
    const out: Delivered = { ids: [], deleted: [], deadLettered: [] };
    const all = pendingIds(g);
    let attempts = count * 10;
    let left = count;
    let i = 0;
    for (; attempts-- > 0 && left > 0 && i < all.length; i++) {
      const id = all[i] as bigint;
      const nack = g.pending.get(id) as MNack;
      if (!stream.entries.has(id)) {
        g.pending.delete(id);
        out.deleted.push(formatModelId(id));
        left--;
        continue;
      }
      if (minIdle !== 0 && this.nowMs - nack.deliveredMs < minIdle) continue;
      if (this.deadLetter(key, stream, g, group, id)) {
        out.deadLettered.push(formatModelId(id));
        left--;
        continue;
      }
      nack.consumer = consumer;
      nack.deliveredMs = this.nowMs;
      nack.deliveries++;
      out.ids.push(formatModelId(id));
      left--;
      owner.activeMs = this.nowMs;
    }
    out.nextId = formatModelId(all[i] ?? 0n);
    return out;
  }
}

/** Redis's facts of a stream, for entries-read and lag. */
function facts(stream: MStream) {
  const all = ids(stream);
  return { length: all.length, firstId: all[0] ?? 0n };
}

function hasTombstones(stream: MStream, start: bigint): boolean {
  const { length, firstId } = facts(stream);
  if (length === 0 || stream.maxDeletedId === 0n) return false;
  if (firstId > stream.maxDeletedId) return false;
  return start <= stream.maxDeletedId;
}

function estimate(stream: MStream, id: bigint): number | undefined {
  const { length, firstId } = facts(stream);
  if (stream.entriesAdded === 0) return 0;
  if (length === 0 && id <= stream.lastId) return stream.entriesAdded;
  if (id === stream.lastId) return stream.entriesAdded;
  if (id > stream.lastId) return undefined;
  if (stream.maxDeletedId === 0n || stream.maxDeletedId < firstId) {
    if (id < firstId) return stream.entriesAdded - length;
    if (id === firstId) return stream.entriesAdded - length + 1;
  }
  return undefined;
}

function entriesReadAfter(stream: MStream, id: bigint, entriesRead: number | undefined): number | undefined {
  if (entriesRead !== undefined && !hasTombstones(stream, id)) return entriesRead + 1;
  if (stream.entriesAdded !== 0) return estimate(stream, id);
  return entriesRead;
}

export function groupLag(stream: MStream, group: MGroup): number | null {
  if (stream.entriesAdded === 0) return 0;
  if (group.entriesRead !== undefined && !hasTombstones(stream, group.lastDelivered))
    return stream.entriesAdded - group.entriesRead;
  const e = estimate(stream, group.lastDelivered);
  return e === undefined ? null : stream.entriesAdded - e;
}
