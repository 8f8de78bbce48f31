/**
 * The streams of a store as its users reach them (`store.streams`): Redis Streams' operations
 * with their semantics (XADD, XRANGE, XREAD, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM,
 * XTRIM, XDEL, XSETID, XGROUP, XINFO), plus retention, dead-lettering and idempotent adds.
 *
 * A mutation is logged as its command and resolves once the command is durable and applied,
 * with what applying it decided (stream-apply.ts). Reads see applied state only, which under
 * sync "always" is durable state; under "interval" or "none" a read first waits until what it
 * saw is durable. A blocking read waits on the keys it reads and is woken by the commit that
 * applies a write to one of them (stream-waiters.ts).
 */
import { LogbookError } from "../errors.js";
import {
  type Delivery,
  formatId,
  type GroupStart,
  MAX_ID,
  MIN_ID,
  nextId,
  parseId,
  parseIdRequest,
  type Stream,
  type StreamCommand,
  type StreamId,
} from "../streams/index.js";
import { BatchIterator } from "./batch-iterator.js";
import type { Key } from "./encoding.js";
import {
  countArg,
  type FieldInput,
  fieldsToInternal,
  msArg,
  type Name,
  nameFromInternal,
  nameToInternal,
  type RetentionOptions,
  rangeBound,
  retentionArg,
  STREAM_RANGE_COUNT_MAX,
  STREAM_READ_COUNT_MAX,
  type TrimOptions,
  trimSpec,
} from "./stream-args.js";
import { deliverGroupReads } from "./stream-group-read.js";
import type { StreamHost } from "./stream-host.js";
import { fullInfo, groupInfo, type PendingOptions, pendingDetail, pendingSummary, streamInfo } from "./stream-info.js";
import {
  block,
  blockDeadline,
  deadLetterBodies,
  deadLetterBodiesOf,
  deliveryEntries,
  entriesOf,
  hasNew,
  scannedEntries,
} from "./stream-reads.js";
import { RetentionSweeper } from "./stream-retention.js";
import type {
  AddOptions,
  BinaryOption,
  ClaimOptions,
  CreateGroupOptions,
  GroupReadOptions,
  StreamBatchOperation,
  StreamEntry,
  StreamRead,
  StreamReadOptions,
} from "./stream-types.js";

export class Streams {
  /** Logs trims for retention by age when no add comes (stream-retention.ts). */
  readonly retention: RetentionSweeper;

  constructor(private readonly host: StreamHost) {
    this.retention = new RetentionSweeper(host);
  }

  /** Adds an entry; resolves its ID (or, with `noMkStream` and no stream, null). */
  add(key: Key, fields: FieldInput, options: AddOptions = {}): Promise<string | null> {
    let command: StreamCommand;
    let internal: string;
    try {
      internal = this.host.internalKey(key);
      command = this.addCommand(fields, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.host.run(internal, command).then(formatAddedId);
  }

  private addCommand(fields: FieldInput, options: AddOptions): StreamCommand {
    return {
      kind: "add",
      id: parseIdRequest(options.id ?? "*"),
      fields: fieldsToInternal(fields, this.host.valueBytesMax),
      noMkStream: options.noMkStream === true,
      trim: options.trim === undefined ? undefined : trimSpec(options.trim),
      producerId: options.producerId === undefined ? undefined : nameToInternal(options.producerId, "producerId"),
      nowMs: this.host.clock.wallMs(),
    };
  }

  /** The command a stream operation of a store batch logs (checked; throws on bad input). */
  commandFor(op: StreamBatchOperation): StreamCommand {
    if (op.type === "streamAdd") {
      return {
        kind: "add",
        id: parseIdRequest(op.id ?? "*"),
        fields: fieldsToInternal(op.fields, this.host.valueBytesMax),
        noMkStream: false,
        producerId: op.producerId === undefined ? undefined : nameToInternal(op.producerId, "producerId"),
        nowMs: this.host.clock.wallMs(),
      };
    }
    const ids = op.ids.map((id) => parseId(id));
    return op.type === "streamAck" ? { kind: "ack", group: nameToInternal(op.group, "group"), ids } : { kind: "delete", ids };
  }

  /** Entries with IDs in [start, end] (`-`/`+` for the ends, `(` for exclusive bounds), oldest first unless `reverse`. */
  async range(
    key: Key,
    options: { start?: string; end?: string; count?: number; reverse?: boolean } & BinaryOption = {},
  ): Promise<StreamEntry[]> {
    const stream = this.readable(key);
    const start = rangeBound(options.start ?? "-", "start");
    const end = rangeBound(options.end ?? "+", "end");
    if (stream === undefined || start === undefined || end === undefined || start > end) return [];
    const limit = countArg(options.count, STREAM_RANGE_COUNT_MAX + 1, Number.MAX_SAFE_INTEGER);
    const ids = stream.entries.ids(start, end, Math.min(limit, STREAM_RANGE_COUNT_MAX + 1), options.reverse === true);
    if (options.count === undefined && ids.length > STREAM_RANGE_COUNT_MAX) {
      throw new LogbookError(
        "LOGBOOK_INVALID_ARGUMENT",
        `the range holds more than ${STREAM_RANGE_COUNT_MAX} entries: give a count, or iterate with entries()`,
      );
    }
    return entriesOf(this.host, stream, ids, options.binary === true);
  }

  /** Every entry from `from` (inclusive; default the first) to the end, read from disk in order, in batches. */
  entries(key: Key, options: { from?: string; signal?: AbortSignal } = {}): AsyncGenerator<StreamEntry> {
    return new BatchIterator(this.entryBatches(key, options));
  }

  /**
   * What `entries` yields, an array at a time (up to SCAN_BATCH_ENTRIES entries, in order): the
   * same entries without a promise per entry, for readers that go through a whole stream.
   */
  async *entryBatches(key: Key, options: { from?: string; signal?: AbortSignal } = {}): AsyncGenerator<StreamEntry[]> {
    const stream = this.readable(key);
    const from = rangeBound(options.from ?? "-", "start");
    if (stream === undefined || from === undefined) return;
    for await (const found of stream.entries.scanBodies(from, MAX_ID, false)) {
      if (options.signal?.aborted)
        throw new LogbookError("LOGBOOK_ABORTED", "the read was aborted", { cause: options.signal.reason });
      const batch = scannedEntries(found);
      if (batch.length > 0) yield batch;
    }
  }

  /** The number of entries. */
  length(key: Key): number {
    return this.readable(key)?.length ?? 0;
  }

  /** Whether the stream at `key` has the group (false when there is no stream there). */
  hasGroup(key: Key, group: Name): boolean {
    return this.readable(key)?.groups.has(nameToInternal(group, "group")) === true;
  }

  /** Readers blocked now in `read` or `readGroup` (at most BLOCKED_READERS_MAX). */
  get blockedReaders(): number {
    return this.host.waiters.size;
  }

  /** Keys holding a stream, in no particular order. */
  keys(): Key[] {
    return [...this.host.space.keys()].map((k) => this.host.externalKey(k));
  }

  /**
   * XREAD: entries after each given ID (`$`: the stream's last ID now), at most `count` per
   * stream. With `blockMs` and nothing to return, waits for new entries; resolves null when
   * the time runs out. A key that stops holding a stream while the read waits is read as empty.
   */
  async read(after: Record<string, string> | [Key, string][], options: StreamReadOptions = {}): Promise<StreamRead[] | null> {
    const pairs = Array.isArray(after) ? after : Object.entries(after);
    const count = countArg(options.count, STREAM_READ_COUNT_MAX, STREAM_READ_COUNT_MAX);
    const positions = pairs.map(([key, id]) => {
      const internal = this.host.internalKey(key);
      const stream = this.readable(key);
      return { key, internal, after: id === "$" ? (stream?.lastId ?? parseId("0-0")) : parseId(id) };
    });
    const deadline = blockDeadline(this.host, options.blockMs);
    for (;;) {
      const result: StreamRead[] = [];
      for (const p of positions) {
        const stream = this.host.space.get(p.internal);
        const from = nextId(p.after);
        if (stream === undefined || from === undefined) continue;
        const ids = stream.entries.ids(from, MAX_ID, count, false);
        if (ids.length > 0)
          result.push({ key: p.key, entries: await entriesOf(this.host, stream, ids, options.binary === true) });
      }
      if (result.length > 0) return result;
      const keys = positions.map((p) => p.internal);
      if (!(await block(this.host, keys, deadline, options.signal, options.onBlock))) return null;
    }
  }

  async createGroup(key: Key, group: Name, options: CreateGroupOptions = {}): Promise<void> {
    await this.host.run(this.host.internalKey(key), {
      kind: "createGroup",
      group: nameToInternal(group, "group"),
      start: groupStart(options.start ?? "$"),
      mkStream: options.mkStream === true,
      entriesRead: options.entriesRead,
      maxDeliveries: positiveOrUndefined(options.maxDeliveries, "maxDeliveries"),
      deadLetterKey: options.deadLetterKey === undefined ? undefined : this.host.internalKey(options.deadLetterKey),
    });
  }

  async setGroupId(key: Key, group: Name, start: string, options: { entriesRead?: number } = {}): Promise<void> {
    const command = { kind: "setGroupId", group: nameToInternal(group, "group"), start: groupStart(start), ...options } as const;
    await this.host.run(this.host.internalKey(key), command);
  }

  async destroyGroup(key: Key, group: Name): Promise<boolean> {
    return (await this.host.run(this.host.internalKey(key), {
      kind: "destroyGroup",
      group: nameToInternal(group, "group"),
    })) as boolean;
  }

  async createConsumer(key: Key, group: Name, consumer: Name): Promise<boolean> {
    const command = this.consumerCommand("createConsumer", group, consumer);
    return (await this.host.run(this.host.internalKey(key), command)) as boolean;
  }

  /** Deletes a consumer; resolves how many pending entries it had (they leave the pending list). */
  async deleteConsumer(key: Key, group: Name, consumer: Name): Promise<number> {
    const command = {
      kind: "deleteConsumer",
      group: nameToInternal(group, "group"),
      consumer: nameToInternal(consumer, "consumer"),
    } as const;
    return (await this.host.run(this.host.internalKey(key), command)) as number;
  }

  /**
   * XREADGROUP: for each stream, `>` reads entries never delivered to the group (they join
   * the consumer's pending list unless `noAck`); an ID re-reads the consumer's own pending
   * entries from it. With `blockMs` and no new entries, waits for some. A read of `>` only that
   * finds nothing new resolves null without logging anything (it creates no consumer).
   */
  async readGroup(
    group: Name,
    consumer: Name,
    from: Record<string, string> | [Key, string][],
    options: GroupReadOptions = {},
  ): Promise<StreamRead[] | null> {
    const pairs = Array.isArray(from) ? from : Object.entries(from);
    const count = countArg(options.count, STREAM_READ_COUNT_MAX, STREAM_READ_COUNT_MAX);
    const groupName = nameToInternal(group, "group");
    const consumerName = nameToInternal(consumer, "consumer");
    const reads = pairs.map(([key, id]) => ({
      key,
      internal: this.host.internalKey(key),
      from: id === ">" ? undefined : parseId(id),
    }));
    const deadline = blockDeadline(this.host, options.blockMs);
    const spec = {
      group: groupName,
      consumer: consumerName,
      count,
      noAck: options.noAck === true,
      binary: options.binary === true,
    };
    for (;;) {
      const waitable = reads.every((r) => r.from === undefined && !hasNew(this.host, r.internal, groupName));
      if (waitable && deadline === undefined) return null;
      if (!waitable) {
        const delivered = await deliverGroupReads(this.host, reads, spec);
        if (delivered !== null || deadline === undefined) return delivered;
      }
      const keys = reads.map((r) => r.internal);
      if (!(await block(this.host, keys, deadline, options.signal, options.onBlock))) return null;
    }
  }

  /** XACK: resolves how many of `ids` were pending and are now acknowledged. */
  async ack(key: Key, group: Name, ids: readonly string[]): Promise<number> {
    const command = { kind: "ack", group: nameToInternal(group, "group"), ids: ids.map((id) => parseId(id)) } as const;
    return (await this.host.run(this.host.internalKey(key), command)) as number;
  }

  /** XDEL: resolves how many of `ids` were there and are now deleted. */
  async delete(key: Key, ids: readonly string[]): Promise<number> {
    return (await this.host.run(this.host.internalKey(key), { kind: "delete", ids: ids.map((id) => parseId(id)) })) as number;
  }

  /** XTRIM: resolves how many entries were removed. */
  async trim(key: Key, options: TrimOptions): Promise<number> {
    return (await this.host.run(this.host.internalKey(key), { kind: "trim", trim: trimSpec(options) })) as number;
  }

  /** XSETID. */
  async setId(key: Key, id: string, options: { entriesAdded?: number; maxDeletedId?: string } = {}): Promise<void> {
    const maxDeletedId = options.maxDeletedId === undefined ? undefined : parseId(options.maxDeletedId);
    await this.host.run(this.host.internalKey(key), {
      kind: "setId",
      id: parseId(id),
      entriesAdded: options.entriesAdded,
      maxDeletedId,
    });
  }

  /** Sets the stream's retention (applied now and after every add), creating an empty stream if there is none. */
  async setRetention(key: Key, retention: RetentionOptions): Promise<number> {
    const command = { kind: "setRetention", retention: retentionArg(retention), nowMs: this.host.clock.wallMs() } as const;
    return (await this.host.run(this.host.internalKey(key), command)) as number;
  }

  /** XPENDING without a range: the summary of the group's pending entries. */
  pending(key: Key, group: Name, options: BinaryOption = {}) {
    return pendingSummary(this.groupOf(key, group), options.binary === true);
  }

  /** XPENDING with a range: pending entries with their consumer, idle time and delivery count. */
  pendingEntries(key: Key, group: Name, options: PendingOptions & BinaryOption = {}) {
    return pendingDetail(this.groupOf(key, group), options, this.host.clock.wallMs());
  }

  /**
   * XCLAIM: takes pending entries idle at least `minIdleMs` for `consumer`. Logged before it
   * returns unless the group dead-letters (then once the bodies it may move are read).
   */
  async claim(key: Key, group: Name, consumer: Name, minIdleMs: number, ids: readonly string[], options: ClaimOptions = {}) {
    const internal = this.host.internalKey(key);
    const groupName = nameToInternal(group, "group");
    const parsed = ids.map((id) => parseId(id));
    if (options.idleMs !== undefined && options.timeMs !== undefined) {
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "a claim takes idleMs or timeMs, not both");
    }
    const bodies = this.deadLetters(internal, groupName) ? await deadLetterBodiesOf(this.host, internal, groupName, parsed) : [];
    const command: StreamCommand = {
      kind: "claim",
      group: groupName,
      consumer: nameToInternal(consumer, "consumer"),
      minIdleMs: msArg(minIdleMs, "minIdleMs") as number,
      ids: parsed,
      idleMs: msArg(options.idleMs, "idleMs"),
      timeMs: msArg(options.timeMs, "timeMs"),
      retryCount: msArg(options.retryCount, "retryCount"),
      force: options.force === true,
      justId: options.justId === true,
      lastId: options.lastId === undefined ? undefined : parseId(options.lastId),
      nowMs: this.host.clock.wallMs(),
      bodies,
    };
    const delivery = (await this.host.run(internal, command)) as Delivery;
    return deliveryEntries(this.host, internal, delivery, options.justId === true, options.binary === true);
  }

  /** XAUTOCLAIM: claims up to `count` entries idle at least `minIdleMs`, scanning the pending list from `start`. */
  async autoClaim(
    key: Key,
    group: Name,
    consumer: Name,
    minIdleMs: number,
    start: string,
    options: { count?: number; justId?: boolean } & BinaryOption = {},
  ) {
    const internal = this.host.internalKey(key);
    const groupName = nameToInternal(group, "group");
    const count = countArg(options.count, 100, STREAM_READ_COUNT_MAX);
    const from = rangeBound(start, "start") ?? MAX_ID;
    const bodies = this.deadLetters(internal, groupName)
      ? await deadLetterBodies(this.host, internal, groupName, from, count * 10)
      : [];
    const command: StreamCommand = {
      kind: "autoClaim",
      group: groupName,
      consumer: nameToInternal(consumer, "consumer"),
      minIdleMs: msArg(minIdleMs, "minIdleMs") as number,
      start: from,
      count,
      justId: options.justId === true,
      nowMs: this.host.clock.wallMs(),
      bodies,
    };
    const delivery = (await this.host.run(internal, command)) as Delivery;
    const claimed = await deliveryEntries(this.host, internal, delivery, options.justId === true, options.binary === true);
    return { nextId: formatId(delivery.nextId ?? parseId("0-0")), ...claimed };
  }

  /** XINFO STREAM (without FULL): length, IDs, counters, groups count, first and last entries. */
  async info(key: Key, options: BinaryOption = {}) {
    const stream = this.existing(key);
    const ends = await entriesOf(
      this.host,
      stream,
      [stream.entries.firstId, stream.entries.lastId].filter((id) => id !== undefined),
      options.binary === true,
    );
    return streamInfo(stream, ends[0], ends[ends.length - 1]);
  }

  /**
   * XINFO STREAM FULL: what `info` shows, the first `count` entries (0: all), and each group
   * with its first `count` pending entries and its consumers with theirs.
   */
  async infoFull(key: Key, options: { count?: number } & BinaryOption = {}) {
    const stream = this.existing(key);
    const count = options.count ?? 10;
    if (!Number.isSafeInteger(count) || count < 0)
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "count must be a non-negative integer");
    // Every list shown is bounded, a count of 0 ("all") included.
    const limit = count === 0 ? STREAM_RANGE_COUNT_MAX : Math.min(count, STREAM_RANGE_COUNT_MAX);
    const binary = options.binary === true;
    const entries = await entriesOf(this.host, stream, stream.entries.ids(MIN_ID, MAX_ID, limit, false), binary);
    return fullInfo(stream, entries, limit, this.host.externalKey, binary);
  }

  /** XINFO GROUPS. */
  groups(key: Key, options: BinaryOption = {}) {
    const stream = this.existing(key);
    return [...stream.groups.values()].map((g) => groupInfo(g, stream, this.host.externalKey, options.binary === true));
  }

  /** XINFO CONSUMERS. */
  consumers(key: Key, group: Name, options: BinaryOption = {}) {
    return this.groupOf(key, group)
      .consumersInfo(this.host.clock.wallMs())
      .map((c) => ({ ...c, name: nameFromInternal(c.name, options.binary === true) }));
  }

  private consumerCommand(kind: "createConsumer", group: Name, consumer: Name): StreamCommand {
    return {
      kind,
      group: nameToInternal(group, "group"),
      consumer: nameToInternal(consumer, "consumer"),
      nowMs: this.host.clock.wallMs(),
    };
  }

  /** The stream at `key` as a read sees it, or undefined; LOGBOOK_WRONG_TYPE when the key holds a string. */
  private readable(key: Key): Stream | undefined {
    const internal = this.host.internalKey(key);
    const stream = this.host.space.get(internal);
    if (stream === undefined && this.host.holdsString(internal)) throw this.host.wrongType(internal);
    return stream;
  }

  private existing(key: Key): Stream {
    const stream = this.readable(key);
    if (stream === undefined) throw new LogbookError("LOGBOOK_NOT_FOUND", "no such key", { key: String(key) });
    return stream;
  }

  /** Whether the group has a dead-letter rule (its claims then carry the bodies they may move). */
  private deadLetters(internal: string, group: string): boolean {
    const g = this.host.space.get(internal)?.groups.get(group);
    return g?.maxDeliveries !== undefined && g.deadLetterKey !== undefined;
  }

  private groupOf(key: Key, group: Name) {
    const stream = this.readable(key);
    const found = stream?.groups.get(nameToInternal(group, "group"));
    if (found === undefined)
      throw new LogbookError("LOGBOOK_NO_GROUP", `No such key '${String(key)}' or consumer group '${String(group)}'`);
    return found;
  }
}

function formatAddedId(id: unknown): string | null {
  return id === null ? null : formatId(id as StreamId);
}

function groupStart(text: string): GroupStart {
  return text === "$" ? "$" : parseId(text);
}

function positiveOrUndefined(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `${what} must be a positive integer`);
  return value;
}
