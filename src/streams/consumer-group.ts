/**
 * A consumer group of a stream, as Redis Streams (7.2) keeps one: the last delivered ID, the
 * entries-read counter, the consumers and the pending entries list. A pure state machine: no
 * I/O and no clock, every time is an argument (`nowMs`), so applying the same calls in log
 * order, live or in replay, gives the same group. The stream itself is not here: the caller
 * picks the entries, and passes what the group must know of the stream (StreamFacts, `exists`).
 *
 * Beyond Redis, a group may have `maxDeliveries` and a `deadLetterKey`: a claim, autoclaim or
 * history read that would deliver an entry already delivered `maxDeliveries` times offers it to
 * the caller's dead-letter callback, and when that accepts it, takes it out of the PEL instead
 * (group-claim.ts).
 */
import { assert } from "../assert.js";
import { LogbookError } from "../errors.js";
import {
  type AutoClaimResult,
  autoClaim,
  type ClaimOptions,
  type ClaimResult,
  claim,
  type DeadLetterCheck,
  deliverHistory,
  type EntryExists,
  type HistoryResult,
} from "./group-claim.js";
import {
  CONSUMER_NAME_BYTES_MAX,
  checkCount,
  checkIdCount,
  checkMs,
  checkName,
  DEAD_LETTER_KEY_BYTES_MAX,
  GROUP_NAME_BYTES_MAX,
} from "./group-limits.js";
import { type Consumer, type Nack, type PendingEntry, PendingList, pendingOf, snapshotOf } from "./pending-list.js";
import { entriesReadAfter, groupLag, type StreamFacts } from "./stream-facts.js";
import { isStreamId, MIN_ID, type StreamId } from "./stream-id.js";

export interface ConsumerGroupOptions {
  name: string;
  /** Default MIN_ID (0-0). */
  lastDeliveredId?: StreamId;
  /** Undefined: not known (Redis's -1). */
  entriesRead?: number;
  maxDeliveries?: number;
  deadLetterKey?: string;
}

export interface ConsumerState {
  readonly name: string;
  readonly pending: number;
  readonly seenMs: number;
  /** Undefined while the consumer has had no successful read or claim. */
  readonly activeMs: number | undefined;
}

export interface PendingSummary {
  readonly count: number;
  readonly smallest: StreamId | undefined;
  readonly largest: StreamId | undefined;
  /** Consumers with at least one pending entry, in name order. */
  readonly consumers: { readonly name: string; readonly pending: number }[];
}

export interface PendingRangeQuery {
  /** Inclusive. */
  start: StreamId;
  /** Inclusive. */
  end: StreamId;
  /** At most this many; 0 or less: none. */
  count: number;
  /** Only this consumer's entries (none when it does not exist). */
  consumer?: string;
  /** Only entries idle at least this long (0: all). */
  minIdleMs?: number;
}

export interface PendingRangeEntry {
  readonly id: StreamId;
  readonly consumer: string;
  /** ms since its last delivery, never below 0. */
  readonly idleMs: number;
  readonly deliveries: number;
}

export interface GroupInfo {
  readonly name: string;
  readonly consumers: number;
  readonly pending: number;
  readonly lastDeliveredId: StreamId;
  readonly entriesRead: number | null;
  readonly lag: number | null;
}

export interface ConsumerInfo {
  readonly name: string;
  readonly pending: number;
  /** ms since its last interaction, never below 0. */
  readonly idleMs: number;
  /** ms since its last successful read or claim; -1 if it never had one. */
  readonly inactiveMs: number;
}

function checkId(value: unknown, what: string): StreamId {
  if (!isStreamId(value)) throw new TypeError(`${what} is a stream ID`);
  return value;
}

function checkEntriesRead(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  return checkCount(value, "entriesRead", Number.MAX_SAFE_INTEGER);
}

function checkMaxDeliveries(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const max = checkCount(value, "maxDeliveries", 2 ** 32 - 1);
  if (max === 0) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "maxDeliveries is at least 1");
  return max;
}

export class ConsumerGroup {
  readonly name: string;
  lastDeliveredId: StreamId;
  entriesRead: number | undefined;
  maxDeliveries: number | undefined;
  deadLetterKey: string | undefined;
  /** The PEL and the consumers; exposed for the checkpoint codec, which alone builds one from bytes. */
  readonly pending = new PendingList();

  constructor(options: ConsumerGroupOptions) {
    this.name = checkName(options.name, "a group name", GROUP_NAME_BYTES_MAX);
    this.lastDeliveredId = checkId(options.lastDeliveredId ?? MIN_ID, "lastDeliveredId");
    this.entriesRead = checkEntriesRead(options.entriesRead);
    this.maxDeliveries = checkMaxDeliveries(options.maxDeliveries);
    this.deadLetterKey =
      options.deadLetterKey === undefined
        ? undefined
        : checkName(options.deadLetterKey, "a dead-letter key", DEAD_LETTER_KEY_BYTES_MAX);
  }

  /** Sets (or, with undefined, clears) the dead-letter rule. */
  setDeadLetter(maxDeliveries: number | undefined, deadLetterKey: string | undefined): void {
    const max = checkMaxDeliveries(maxDeliveries);
    const key =
      deadLetterKey === undefined ? undefined : checkName(deadLetterKey, "a dead-letter key", DEAD_LETTER_KEY_BYTES_MAX);
    this.maxDeliveries = max;
    this.deadLetterKey = key;
  }

  /** XGROUP CREATECONSUMER: whether it was created (false: it existed, and is left as it was). */
  createConsumer(name: string, nowMs: number): boolean {
    checkName(name, "a consumer name", CONSUMER_NAME_BYTES_MAX);
    checkMs(nowMs, "nowMs");
    if (this.pending.consumer(name) !== undefined) return false;
    this.pending.addConsumer(name, nowMs, undefined);
    return true;
  }

  /** XGROUP DELCONSUMER: its pending count (0 when it did not exist); its entries leave the PEL. */
  deleteConsumer(name: string): number {
    checkName(name, "a consumer name", CONSUMER_NAME_BYTES_MAX);
    return this.pending.removeConsumer(name);
  }

  consumer(name: string): ConsumerState | undefined {
    const consumer = this.pending.consumer(name);
    if (consumer === undefined) return undefined;
    return { name: consumer.name, pending: consumer.pending.size, seenMs: consumer.seenMs, activeMs: consumer.activeMs };
  }

  /** Consumer names in Redis's order (by UTF-8 bytes). */
  consumerNames(): string[] {
    return this.pending.consumersInOrder().map((consumer) => consumer.name);
  }

  /**
   * The consumer a read or claim acts for: created when missing (as XREADGROUP, XCLAIM and
   * XAUTOCLAIM create it), and seen now.
   */
  seeConsumer(name: string, nowMs: number): Consumer {
    checkName(name, "a consumer name", CONSUMER_NAME_BYTES_MAX);
    checkMs(nowMs, "nowMs");
    const consumer = this.pending.consumer(name) ?? this.pending.addConsumer(name, nowMs, undefined);
    consumer.seenMs = nowMs;
    return consumer;
  }

  /**
   * XREADGROUP with `>`: `ids` are the entries delivered, in order, all after the last delivered
   * ID (none: the read found nothing, and only creates and sees the consumer). Each advances
   * the last delivered ID and entries-read; unless `noAck`, each becomes pending for `consumer`
   * with one delivery (an ID already pending, after SETID moved back, is taken from its owner
   * and starts over).
   */
  deliverNew(consumer: string, ids: readonly StreamId[], nowMs: number, noAck: boolean, facts: StreamFacts): void {
    checkIdCount(ids, "ids");
    let previous = this.lastDeliveredId;
    for (const id of ids) {
      checkId(id, "each ID");
      assert(id > previous, "new deliveries come after the last delivered ID, in order");
      previous = id;
    }
    const owner = this.seeConsumer(consumer, nowMs);
    for (const id of ids) {
      this.entriesRead = entriesReadAfter(facts, id, this.entriesRead);
      this.lastDeliveredId = id;
      if (noAck) continue;
      const nack = this.pending.get(id);
      if (nack === undefined) {
        this.pending.add(id, owner, nowMs, 1);
      } else {
        this.pending.moveTo(nack, owner);
        nack.deliveredMs = nowMs;
        nack.deliveries = 1;
      }
      owner.activeMs = nowMs;
    }
  }

  /** XREADGROUP with an ID: the consumer's own pending entries from `fromId` (group-claim.ts). */
  deliverHistory(
    consumer: string,
    fromId: StreamId,
    count: number,
    nowMs: number,
    exists: EntryExists,
    deadLetter?: DeadLetterCheck,
  ): HistoryResult {
    checkId(fromId, "fromId");
    checkCount(count, "count");
    const owner = this.seeConsumer(consumer, nowMs);
    return deliverHistory(this, owner, fromId, count, nowMs, exists, deadLetter);
  }

  /** XACK: how many of `ids` were pending (and no longer are). */
  ack(ids: readonly StreamId[]): number {
    checkIdCount(ids, "ids");
    for (const id of ids) checkId(id, "each ID");
    let acknowledged = 0;
    for (const id of ids) if (this.pending.remove(id) !== undefined) acknowledged++;
    return acknowledged;
  }

  /** XCLAIM (group-claim.ts). */
  claim(
    consumer: string,
    minIdleMs: number,
    ids: readonly StreamId[],
    options: ClaimOptions,
    nowMs: number,
    exists: EntryExists,
    deadLetter?: DeadLetterCheck,
  ): ClaimResult {
    checkIdCount(ids, "ids");
    for (const id of ids) checkId(id, "each ID");
    if (options.lastId !== undefined) checkId(options.lastId, "lastId");
    const owner = this.seeConsumer(consumer, nowMs);
    return claim(this, owner, minIdleMs, ids, options, nowMs, exists, deadLetter);
  }

  /** XAUTOCLAIM (group-claim.ts). */
  autoClaim(
    consumer: string,
    minIdleMs: number,
    startId: StreamId,
    count: number,
    nowMs: number,
    exists: EntryExists,
    justId: boolean,
    deadLetter?: DeadLetterCheck,
  ): AutoClaimResult {
    checkId(startId, "startId");
    if (checkCount(count, "count") === 0)
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "an autoclaim's count is at least 1");
    const owner = this.seeConsumer(consumer, nowMs);
    return autoClaim(this, owner, minIdleMs, startId, count, nowMs, exists, justId, deadLetter);
  }

  /** XGROUP SETID: the last delivered ID, and entries-read (not known unless given). */
  setId(id: StreamId, entriesRead?: number): void {
    checkId(id, "id");
    this.entriesRead = checkEntriesRead(entriesRead);
    this.lastDeliveredId = id;
  }

  /** XPENDING's summary form. */
  pendingSummary(): PendingSummary {
    const consumers = this.pending
      .consumersInOrder()
      .filter((consumer) => consumer.pending.size > 0)
      .map((consumer) => ({ name: consumer.name, pending: consumer.pending.size }));
    return { count: this.pending.size, smallest: this.pending.firstId(), largest: this.pending.lastId(), consumers };
  }

  /** XPENDING's extended form: entries in [start, end] in ID order. */
  pendingRange(query: PendingRangeQuery, nowMs: number): PendingRangeEntry[] {
    const start = checkId(query.start, "start");
    const end = checkId(query.end, "end");
    let left = checkCount(Math.max(0, query.count), "count");
    const minIdleMs = query.minIdleMs ?? 0;
    if (!Number.isSafeInteger(minIdleMs)) throw new TypeError("minIdleMs is an integer");
    checkMs(nowMs, "nowMs");
    const entries: PendingRangeEntry[] = [];
    if (left === 0) return entries;
    let source: Iterable<Nack> = this.pending.entries(start);
    if (query.consumer !== undefined) {
      const owner = this.pending.consumer(checkName(query.consumer, "a consumer name", CONSUMER_NAME_BYTES_MAX));
      if (owner === undefined) return entries;
      source = pendingOf(owner, start);
    }
    for (const nack of source) {
      if (nack.id > end) break;
      const idleMs = nowMs - nack.deliveredMs;
      if (minIdleMs !== 0 && idleMs < minIdleMs) continue;
      entries.push({ id: nack.id, consumer: nack.consumer.name, idleMs: Math.max(0, idleMs), deliveries: nack.deliveries });
      if (--left === 0) break;
    }
    return entries;
  }

  /** Every pending entry in ID order (for XINFO STREAM FULL and tests). */
  pendingEntries(): PendingEntry[] {
    return [...this.pending.entries()].map(snapshotOf);
  }

  /** What XINFO GROUPS shows of this group. */
  info(facts: StreamFacts): GroupInfo {
    const lag = groupLag(facts, this.lastDeliveredId, this.entriesRead);
    return {
      name: this.name,
      consumers: this.pending.consumerCount,
      pending: this.pending.size,
      lastDeliveredId: this.lastDeliveredId,
      entriesRead: this.entriesRead ?? null,
      lag: lag ?? null,
    };
  }

  /** What XINFO CONSUMERS shows, in name order. */
  consumersInfo(nowMs: number): ConsumerInfo[] {
    checkMs(nowMs, "nowMs");
    return this.pending.consumersInOrder().map((consumer) => ({
      name: consumer.name,
      pending: consumer.pending.size,
      idleMs: Math.max(0, nowMs - consumer.seenMs),
      inactiveMs: consumer.activeMs === undefined ? -1 : nowMs - consumer.activeMs,
    }));
  }
}
