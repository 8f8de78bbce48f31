/**
 * What each stream command does when it is applied: a pure function of the stream's state and
 * the command (its time included), so that applying a command live and replaying it after a
 * crash decide the same. A command that cannot be carried out returns its error and changes
 * nothing; the store hands that error to whoever asked.
 */
import type { LogbookError } from "../errors.js";
import { ConsumerGroup } from "./consumer-group.js";
import { decodeFields, encodeFields } from "./entry-body.js";
import type { PendingEntry } from "./pending-list.js";
import { NO_RETENTION, type Stream } from "./stream.js";
import type { StreamCommand, TrimSpec } from "./stream-command.js";
import {
  ADD_ID_NOT_ABOVE_ZERO,
  ADD_ID_TOO_SMALL,
  groupExists,
  groupNeedsKey,
  ID_EXHAUSTED,
  invalidStream,
  noGroup,
  noSuchKey,
  SETID_BELOW_MAX_DELETED,
  SETID_ENTRIES_ADDED_TOO_SMALL,
  SETID_TOO_SMALL,
  wrongType,
} from "./stream-errors.js";
import { assignId, formatId, idFromParts, MAX_ID, MIN_ID, nextId, type StreamId } from "./stream-id.js";

/** What applying needs of the space of streams around one stream. */
export interface ApplyContext {
  /** The stream at the key, if there is one. */
  stream(key: string): Stream | undefined;
  /** Creates an empty stream at the key (which holds nothing). */
  create(key: string): Stream;
  /** Whether the key holds a string value (then no stream command may touch it). */
  holdsString(key: string): boolean;
  /** Producer IDs remembered per stream. */
  producerWindow: number;
}

/** The result of a group read or claim: IDs delivered (their bodies are read afterwards), and what moved. */
export interface Delivery {
  ids: StreamId[];
  /** IDs still pending whose entry is gone (Redis replies with a null entry for them). */
  deleted: StreamId[];
  deadLettered: PendingEntry[];
  /** XAUTOCLAIM's cursor. */
  nextId?: StreamId;
}

export type ApplyResult = StreamId | number | boolean | null | Delivery | LogbookError;

export function applyStreamCommand(context: ApplyContext, key: string, command: StreamCommand): ApplyResult {
  if (context.holdsString(key)) return wrongType(key);
  const stream = context.stream(key);
  switch (command.kind) {
    case "add":
      return add(context, key, stream, command);
    case "delete":
      return stream === undefined ? 0 : deleteEntries(stream, command.ids);
    case "trim":
      return stream === undefined ? 0 : trim(stream, command.trim);
    case "setId":
      return setId(key, stream, command);
    case "setRetention": {
      const target = stream ?? context.create(key);
      target.retention = command.retention;
      return applyRetention(target, command.nowMs);
    }
    case "createGroup":
      return createGroup(context, key, stream, command);
    default:
      return applyGroupCommand(context, key, stream, command);
  }
}

function add(context: ApplyContext, key: string, existing: Stream | undefined, command: StreamCommand & { kind: "add" }) {
  if (existing === undefined && command.noMkStream) return null;
  const known = command.producerId === undefined ? undefined : existing?.producers.get(command.producerId);
  if (known !== undefined) return known;
  const last = existing?.lastId ?? MIN_ID;
  const id = assignId(command.id, last, command.nowMs);
  if (id === undefined) {
    if (command.id.kind === "explicit" && command.id.id === MIN_ID) return invalidStream(ADD_ID_NOT_ABOVE_ZERO, key);
    if (command.id.kind === "auto" && last === MAX_ID) return invalidStream(ID_EXHAUSTED, key);
    return invalidStream(ADD_ID_TOO_SMALL, key);
  }
  const stream = existing ?? context.create(key);
  stream.entries.append(id, encodeFields(command.fields));
  stream.lastId = id;
  stream.entriesAdded++;
  if (command.producerId !== undefined) stream.rememberProducer(command.producerId, id, context.producerWindow);
  if (command.trim !== undefined) trim(stream, command.trim);
  applyRetention(stream, command.nowMs);
  return id;
}

function deleteEntries(stream: Stream, ids: readonly StreamId[]): number {
  let deleted = 0;
  for (const id of ids) {
    if (!stream.entries.delete(id)) continue;
    deleted++;
    if (id > stream.maxDeletedId) stream.maxDeletedId = id;
  }
  return deleted;
}

function trim(stream: Stream, spec: TrimSpec): number {
  const { entries } = stream;
  if (spec.strategy === "maxlen") return entries.trimToLength(spec.threshold, spec.approximate, spec.limit);
  if (spec.strategy === "minid") return entries.trimBefore(spec.minId, spec.approximate, spec.limit);
  return entries.trimToBytes(spec.threshold);
}

/** The stream's own retention, after each add and when it is set: count, bytes, then age by the command's time. */
function applyRetention(stream: Stream, nowMs: number): number {
  const { retention, entries } = stream;
  if (retention === NO_RETENTION) return 0;
  let removed = 0;
  if (retention.maxLength > 0) removed += entries.trimToLength(retention.maxLength, false, 0);
  if (retention.maxBytes > 0) removed += entries.trimToBytes(retention.maxBytes);
  if (retention.maxAgeMs > 0 && nowMs > retention.maxAgeMs) {
    removed += entries.trimBefore(idFromParts(BigInt(Math.floor(nowMs - retention.maxAgeMs)), 0n), false, 0);
  }
  return removed;
}

function setId(key: string, stream: Stream | undefined, command: StreamCommand & { kind: "setId" }) {
  if (stream === undefined) return noSuchKey(key);
  const lastEntry = stream.entries.lastId;
  if (lastEntry !== undefined && command.id < lastEntry) return invalidStream(SETID_TOO_SMALL, key);
  if (command.entriesAdded !== undefined && command.entriesAdded < stream.length) {
    return invalidStream(SETID_ENTRIES_ADDED_TOO_SMALL, key);
  }
  if (command.maxDeletedId !== undefined && command.id < command.maxDeletedId) return invalidStream(SETID_BELOW_MAX_DELETED, key);
  stream.lastId = command.id;
  if (command.entriesAdded !== undefined) stream.entriesAdded = command.entriesAdded;
  if (command.maxDeletedId !== undefined) stream.maxDeletedId = command.maxDeletedId;
  return true;
}

function createGroup(
  context: ApplyContext,
  key: string,
  existing: Stream | undefined,
  command: StreamCommand & { kind: "createGroup" },
) {
  if (existing === undefined && !command.mkStream) return groupNeedsKey(key);
  if (existing?.groups.has(command.group)) return groupExists(key);
  const stream = existing ?? context.create(key);
  const start = command.start === "$" ? stream.lastId : command.start;
  const entriesRead = command.start === "$" ? stream.entriesAdded : command.entriesRead;
  const group = new ConsumerGroup({
    name: command.group,
    lastDeliveredId: start,
    entriesRead,
    maxDeliveries: command.maxDeliveries,
    deadLetterKey: command.deadLetterKey,
  });
  stream.groups.set(command.group, group);
  return true;
}

type GroupCommand = Exclude<StreamCommand, { kind: "add" | "delete" | "trim" | "setId" | "setRetention" | "createGroup" }>;

function applyGroupCommand(context: ApplyContext, key: string, stream: Stream | undefined, command: GroupCommand): ApplyResult {
  const group = stream?.groups.get(command.group);
  if (command.kind === "ack") return group === undefined ? 0 : group.ack(command.ids);
  if (command.kind === "destroyGroup") return stream?.groups.delete(command.group) ?? false;
  if (stream === undefined || group === undefined) {
    if (command.kind === "setGroupId" && stream === undefined) return groupNeedsKey(key);
    return noGroup(key, command.group, command.kind === "readGroup" ? "XREADGROUP" : "");
  }
  switch (command.kind) {
    case "setGroupId":
      group.setId(
        command.start === "$" ? stream.lastId : command.start,
        command.start === "$" ? stream.entriesAdded : command.entriesRead,
      );
      return true;
    case "createConsumer":
      return group.createConsumer(command.consumer, command.nowMs);
    case "deleteConsumer":
      return group.deleteConsumer(command.consumer);
    case "readGroup":
      return readGroup(context, key, stream, group, command);
    case "claim":
    case "autoClaim":
      return claim(context, key, stream, group, command);
  }
}

const exists = (stream: Stream) => (id: StreamId) => stream.entries.has(id);

function readGroup(
  context: ApplyContext,
  key: string,
  stream: Stream,
  group: ConsumerGroup,
  command: StreamCommand & { kind: "readGroup" },
): Delivery {
  if (command.from === undefined) {
    const after = nextId(group.lastDeliveredId);
    const ids = after === undefined ? [] : stream.entries.ids(after, MAX_ID, command.count, false);
    group.deliverNew(command.consumer, ids, command.nowMs, command.noAck, stream);
    return { ids, deleted: [], deadLettered: [] };
  }
  const deadLetter = deadLetterer(context, key, stream, group, command.bodies, command.nowMs);
  const result = group.deliverHistory(command.consumer, command.from, command.count, command.nowMs, exists(stream), deadLetter);
  return { ids: result.entries.map((e) => e.id), deleted: [], deadLettered: result.deadLettered };
}

function claim(
  context: ApplyContext,
  key: string,
  stream: Stream,
  group: ConsumerGroup,
  command: StreamCommand & { kind: "claim" | "autoClaim" },
): Delivery {
  const deadLetter = deadLetterer(context, key, stream, group, command.bodies, command.nowMs);
  if (command.kind === "autoClaim") {
    const result = group.autoClaim(
      command.consumer,
      command.minIdleMs,
      command.start,
      command.count,
      command.nowMs,
      exists(stream),
      command.justId,
      deadLetter,
    );
    return { ids: result.claimed, deleted: result.deleted, deadLettered: result.deadLettered, nextId: result.nextId };
  }
  const result = group.claim(
    command.consumer,
    command.minIdleMs,
    command.ids,
    {
      idleMs: command.idleMs,
      timeMs: command.timeMs,
      retryCount: command.retryCount,
      force: command.force,
      justId: command.justId,
      lastId: command.lastId,
    },
    command.nowMs,
    exists(stream),
    deadLetter,
  );
  return { ids: result.claimed, deleted: result.deleted, deadLettered: result.deadLettered };
}

/**
 * The group's dead-letter rule for one command: an entry that reached the group's
 * maxDeliveries moves to its dead-letter stream only when the command carries its body (read
 * before it was logged), so replay, which has the same command, moves the same entries.
 */
function deadLetterer(
  context: ApplyContext,
  key: string,
  stream: Stream,
  group: ConsumerGroup,
  bodies: readonly string[],
  nowMs: number,
): (entry: PendingEntry) => boolean {
  const target = group.deadLetterKey;
  if (target === undefined || bodies.length === 0 || target === key || context.holdsString(target)) return () => false;
  const byId = new Map<string, string>();
  for (let i = 0; i + 1 < bodies.length; i += 2) byId.set(bodies[i] as string, bodies[i + 1] as string);
  return (entry) => {
    const body = byId.get(entry.id);
    if (body === undefined || !stream.entries.has(entry.id)) return false;
    const letters = context.stream(target) ?? context.create(target);
    const id = assignId({ kind: "auto" }, letters.lastId, nowMs);
    if (id === undefined) return false;
    const fields = decodeFields(Buffer.from(body, "latin1"));
    fields.push(
      "dead-letter-stream",
      key,
      "dead-letter-id",
      formatId(entry.id),
      "dead-letter-group",
      group.name,
      "dead-letter-consumer",
      entry.consumer,
      "dead-letter-deliveries",
      String(entry.deliveries),
      "dead-letter-last-delivered-ms",
      String(entry.deliveredMs),
    );
    letters.entries.append(id, encodeFields(fields));
    letters.lastId = id;
    letters.entriesAdded++;
    return true;
  };
}
