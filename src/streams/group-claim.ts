/**
 * The redeliveries of a consumer group, following Redis 7.2's t_stream.c: XCLAIM
 * (xclaimCommand), XAUTOCLAIM (xautoclaimCommand) and the history form of XREADGROUP
 * (streamReplyWithRangeFromConsumerPEL). The consumer is already created and seen by the
 * caller (ConsumerGroup); these change the PEL, its entries and the consumer's active time.
 *
 * Dead-lettering, beyond Redis: when one of them would deliver an entry already in the PEL whose
 * delivery count has reached the group's `maxDeliveries`, the entry is offered to the caller's
 * `deadLetter` callback first. If that returns true the entry leaves the PEL (and its owner)
 * instead of being delivered, and is reported in `deadLettered` as it was (owner, deliveries,
 * last delivery time), for the caller to append to the dead-letter stream. A claim with JUSTID
 * delivers no entry, so it never dead-letters; a FORCE claim never dead-letters an entry it
 * created. A dead-lettered entry counts against an autoclaim's or a history read's count, as
 * a deleted one does. The callback must decide from the state the log gives it (never from a
 * clock or a random draw), so that replay decides the same.
 */
import { AUTOCLAIM_ATTEMPTS_FACTOR } from "./group-limits.js";
import { type Consumer, type Nack, type PendingEntry, type PendingList, snapshotOf } from "./pending-list.js";
import { MIN_ID, nextId, type StreamId } from "./stream-id.js";

/** Whether the stream still holds an entry with this ID. */
export type EntryExists = (id: StreamId) => boolean;
/** Whether the caller takes this entry to its dead-letter stream (see the file's comment). */
export type DeadLetterCheck = (entry: PendingEntry) => boolean;

export interface ClaimOptions {
  /** IDLE: the claimed entries' last delivery is set this long before now. */
  idleMs?: number;
  /** TIME: the claimed entries' last delivery time (at most one of idleMs and timeMs). */
  timeMs?: number;
  /** RETRYCOUNT: the claimed entries' delivery count (negative: as if not given). */
  retryCount?: number;
  /** FORCE: IDs not pending but in the stream become pending. */
  force?: boolean;
  /** JUSTID: the delivery count is not incremented. */
  justId?: boolean;
  /** LASTID: the group's last delivered ID is raised to this when it is lower. */
  lastId?: StreamId;
}

export interface ClaimResult {
  /** The IDs now owned by the consumer, in the order processed. */
  readonly claimed: StreamId[];
  /** Pending IDs no longer in the stream, dropped from the PEL. */
  readonly deleted: StreamId[];
  readonly deadLettered: PendingEntry[];
}

export interface AutoClaimResult extends ClaimResult {
  /** Where the next autoclaim starts; MIN_ID when the scan reached the PEL's end. */
  readonly nextId: StreamId;
}

export interface HistoryEntry {
  readonly id: StreamId;
  /** False: the entry is no longer in the stream (Redis replies with its ID and a null). */
  readonly exists: boolean;
}

export interface HistoryResult {
  readonly entries: HistoryEntry[];
  readonly deadLettered: PendingEntry[];
}

/** The part of a group the redeliveries read and change. */
export interface ClaimTarget {
  readonly pending: PendingList;
  lastDeliveredId: StreamId;
  readonly maxDeliveries: number | undefined;
}

function checkInteger(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new TypeError(`${what} is an integer`);
  return value;
}

/** Takes `nack` out of the PEL when the dead-letter rule and the callback both say so. */
function takeDeadLetter(group: ClaimTarget, nack: Nack, deadLetter: DeadLetterCheck | undefined): PendingEntry | undefined {
  if (deadLetter === undefined || group.maxDeliveries === undefined || nack.deliveries < group.maxDeliveries) return undefined;
  const entry = snapshotOf(nack);
  if (!deadLetter(entry)) return undefined;
  group.pending.remove(nack.id);
  return entry;
}

/** The delivery time a claim sets, as Redis picks it from IDLE or TIME: a bogus one is now. */
function claimDeliveryMs(options: ClaimOptions, nowMs: number): number {
  let deliveredMs = nowMs;
  if (options.idleMs !== undefined && options.timeMs !== undefined)
    throw new TypeError("a claim takes at most one of idleMs and timeMs");
  if (options.idleMs !== undefined) deliveredMs = nowMs - checkInteger(options.idleMs, "idleMs");
  if (options.timeMs !== undefined) deliveredMs = checkInteger(options.timeMs, "timeMs");
  return deliveredMs < 0 || deliveredMs > nowMs ? nowMs : deliveredMs;
}

export function claim(
  group: ClaimTarget,
  consumer: Consumer,
  minIdleMs: number,
  ids: readonly StreamId[],
  options: ClaimOptions,
  nowMs: number,
  exists: EntryExists,
  deadLetter: DeadLetterCheck | undefined,
): ClaimResult {
  const minIdle = Math.max(0, checkInteger(minIdleMs, "minIdleMs"));
  const deliveredMs = claimDeliveryMs(options, nowMs);
  const retryCount = options.retryCount === undefined ? -1 : checkInteger(options.retryCount, "retryCount");
  const justId = options.justId === true;
  if (options.lastId !== undefined && options.lastId > group.lastDeliveredId) group.lastDeliveredId = options.lastId;
  const result: ClaimResult = { claimed: [], deleted: [], deadLettered: [] };
  for (const id of ids) {
    let nack = group.pending.get(id);
    if (!exists(id)) {
      if (nack !== undefined) {
        group.pending.remove(id);
        result.deleted.push(id);
      }
      continue;
    }
    const forced = nack === undefined && options.force === true;
    if (forced) nack = group.pending.add(id, consumer, nowMs, 1);
    if (nack === undefined) continue;
    if (!forced && minIdle !== 0 && nowMs - nack.deliveredMs < minIdle) continue;
    if (!forced && !justId) {
      const dead = takeDeadLetter(group, nack, deadLetter);
      if (dead !== undefined) {
        result.deadLettered.push(dead);
        continue;
      }
    }
    group.pending.moveTo(nack, consumer);
    nack.deliveredMs = deliveredMs;
    if (retryCount >= 0) nack.deliveries = retryCount;
    else if (!justId) nack.deliveries++;
    result.claimed.push(id);
    consumer.activeMs = nowMs;
  }
  return result;
}

export function autoClaim(
  group: ClaimTarget,
  consumer: Consumer,
  minIdleMs: number,
  startId: StreamId,
  count: number,
  nowMs: number,
  exists: EntryExists,
  justId: boolean,
  deadLetter: DeadLetterCheck | undefined,
): AutoClaimResult {
  const minIdle = Math.max(0, checkInteger(minIdleMs, "minIdleMs"));
  const claimed: StreamId[] = [];
  const deleted: StreamId[] = [];
  const deadLettered: PendingEntry[] = [];
  let attempts = count * AUTOCLAIM_ATTEMPTS_FACTOR;
  let left = count;
  let cursor: StreamId | undefined = startId;
  while (attempts-- > 0 && left > 0 && cursor !== undefined) {
    const nack = group.pending.ceiling(cursor);
    if (nack === undefined) break;
    cursor = nextId(nack.id);
    if (!exists(nack.id)) {
      group.pending.remove(nack.id);
      deleted.push(nack.id);
      left--;
      continue;
    }
    if (minIdle !== 0 && nowMs - nack.deliveredMs < minIdle) continue;
    const dead = justId ? undefined : takeDeadLetter(group, nack, deadLetter);
    if (dead !== undefined) {
      deadLettered.push(dead);
      left--;
      continue;
    }
    group.pending.moveTo(nack, consumer);
    nack.deliveredMs = nowMs;
    if (!justId) nack.deliveries++;
    claimed.push(nack.id);
    left--;
    consumer.activeMs = nowMs;
  }
  const next = cursor === undefined ? undefined : group.pending.ceiling(cursor);
  return { nextId: next?.id ?? MIN_ID, claimed, deleted, deadLettered };
}

export function deliverHistory(
  group: ClaimTarget,
  consumer: Consumer,
  fromId: StreamId,
  count: number,
  nowMs: number,
  exists: EntryExists,
  deadLetter: DeadLetterCheck | undefined,
): HistoryResult {
  const result: HistoryResult = { entries: [], deadLettered: [] };
  let served = 0;
  let cursor: StreamId | undefined = fromId;
  while ((count === 0 || served < count) && cursor !== undefined) {
    const found = consumer.pending.ceiling(cursor);
    if (found === undefined) break;
    const nack = found[1];
    cursor = nextId(nack.id);
    served++;
    if (!exists(nack.id)) {
      result.entries.push({ id: nack.id, exists: false });
      continue;
    }
    const dead = takeDeadLetter(group, nack, deadLetter);
    if (dead !== undefined) {
      result.deadLettered.push(dead);
      continue;
    }
    nack.deliveredMs = nowMs;
    nack.deliveries++;
    result.entries.push({ id: nack.id, exists: true });
  }
  return result;
}
