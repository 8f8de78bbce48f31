/**
 * A consumer group against a naive model (arrays scanned whole, Redis's rules written out
 * directly) over random sequences of reads, history reads, acks, claims, autoclaims, consumer
 * deletions, SETID, XDEL, passing time and checkpoint round trips: every result and the whole
 * state agree after each step, dead-lettering included.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  ConsumerGroup,
  decodeGroups,
  encodeGroups,
  idFromParts,
  MIN_ID,
  type PendingEntry,
  type StreamId,
} from "../../src/streams/index.js";
import { FakeStream, groupState } from "./fake-stream.js";

const ENTRIES = 12;
const MAX_DELIVERIES = 3;
const CONSUMERS = ["a", "b", "c"];
const ID = Array.from({ length: ENTRIES + 1 }, (_, i) => idFromParts(BigInt(i), 0n));
const at = (index: number): StreamId => ID[index] as StreamId;
/** Dead letters accepted only for even entries, so both answers of the callback occur. */
const deadLetter = (entry: PendingEntry): boolean => Number(entry.id.charCodeAt(7)) % 2 === 0;

interface ModelEntry {
  id: StreamId;
  consumer: string;
  deliveredMs: number;
  deliveries: number;
}

class Model {
  lastDeliveredId: StreamId = MIN_ID;
  pel: ModelEntry[] = [];
  consumers = new Map<string, { seenMs: number; activeMs: number | undefined }>();

  see(name: string, now: number): void {
    const consumer = this.consumers.get(name) ?? { seenMs: now, activeMs: undefined };
    consumer.seenMs = now;
    this.consumers.set(name, consumer);
  }

  find(id: StreamId): ModelEntry | undefined {
    return this.pel.find((entry) => entry.id === id);
  }

  remove(id: StreamId): void {
    this.pel = this.pel.filter((entry) => entry.id !== id);
  }

  insert(entry: ModelEntry): void {
    this.pel = [...this.pel, entry].sort((x, y) => (x.id < y.id ? -1 : 1));
  }

  /** The dead-letter rule; removes and returns the entry when it applies. */
  dead(entry: ModelEntry): PendingEntry | undefined {
    if (entry.deliveries < MAX_DELIVERIES || !deadLetter({ ...entry })) return undefined;
    this.remove(entry.id);
    return { ...entry };
  }

  state(): unknown {
    const names = [...this.consumers.keys()].sort();
    return {
      lastDeliveredId: this.lastDeliveredId,
      consumers: names.map((name) => ({
        name,
        pending: this.pel.filter((entry) => entry.consumer === name).length,
        ...this.consumers.get(name),
      })),
      pending: this.pel.map((entry) => ({ ...entry })),
    };
  }
}

type Action =
  | { kind: "deliver"; consumer: string; count: number; noAck: boolean }
  | { kind: "history"; consumer: string; from: number; count: number }
  | { kind: "ack"; ids: number[] }
  | { kind: "claim"; consumer: string; minIdle: number; ids: number[]; justId: boolean; force: boolean }
  | { kind: "autoClaim"; consumer: string; minIdle: number; start: number; count: number; justId: boolean }
  | { kind: "deleteConsumer"; consumer: string }
  | { kind: "createConsumer"; consumer: string }
  | { kind: "setId"; to: number }
  | { kind: "xdel"; index: number }
  | { kind: "wait"; ms: number }
  | { kind: "roundTrip" };

const consumer = fc.constantFrom(...CONSUMERS);
const index = fc.integer({ min: 1, max: ENTRIES });
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant("deliver" as const), consumer, count: fc.integer({ min: 0, max: 4 }), noAck: fc.boolean() }),
  fc.record({
    kind: fc.constant("history" as const),
    consumer,
    from: fc.integer({ min: 0, max: ENTRIES }),
    count: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ kind: fc.constant("ack" as const), ids: fc.array(index, { maxLength: 3 }) }),
  fc.record({
    kind: fc.constant("claim" as const),
    consumer,
    minIdle: fc.constantFrom(0, 5, 20),
    ids: fc.array(index, { maxLength: 4 }),
    justId: fc.boolean(),
    force: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("autoClaim" as const),
    consumer,
    minIdle: fc.constantFrom(0, 5, 20),
    start: fc.integer({ min: 0, max: ENTRIES }),
    count: fc.integer({ min: 1, max: 3 }),
    justId: fc.boolean(),
  }),
  fc.record({ kind: fc.constant("deleteConsumer" as const), consumer }),
  fc.record({ kind: fc.constant("createConsumer" as const), consumer }),
  fc.record({ kind: fc.constant("setId" as const), to: fc.integer({ min: 0, max: ENTRIES }) }),
  fc.record({ kind: fc.constant("xdel" as const), index }),
  fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 15 }) }),
  fc.constant({ kind: "roundTrip" as const }),
);

function modelClaim(model: Model, stream: FakeStream, a: Extract<Action, { kind: "claim" }>, now: number): unknown {
  model.see(a.consumer, now);
  const result = { claimed: [] as StreamId[], deleted: [] as StreamId[], deadLettered: [] as PendingEntry[] };
  for (const id of a.ids.map(at)) {
    let entry = model.find(id);
    if (!stream.exists(id)) {
      if (entry !== undefined) result.deleted.push(id);
      model.remove(id);
      continue;
    }
    const forced = entry === undefined && a.force;
    if (forced) {
      entry = { id, consumer: a.consumer, deliveredMs: now, deliveries: 1 };
      model.insert(entry);
    }
    if (entry === undefined || (!forced && a.minIdle > 0 && now - entry.deliveredMs < a.minIdle)) continue;
    const dead = forced || a.justId ? undefined : model.dead(entry);
    if (dead !== undefined) {
      result.deadLettered.push(dead);
      continue;
    }
    Object.assign(entry, { consumer: a.consumer, deliveredMs: now, deliveries: entry.deliveries + (a.justId ? 0 : 1) });
    result.claimed.push(id);
    (model.consumers.get(a.consumer) as { activeMs: number | undefined }).activeMs = now;
  }
  return result;
}

function modelAutoClaim(model: Model, stream: FakeStream, a: Extract<Action, { kind: "autoClaim" }>, now: number): unknown {
  model.see(a.consumer, now);
  const candidates = model.pel.filter((entry) => entry.id >= at(a.start));
  const result = { claimed: [] as StreamId[], deleted: [] as StreamId[], deadLettered: [] as PendingEntry[] };
  let left = a.count;
  let examined = 0;
  for (const entry of candidates) {
    if (examined === a.count * 10 || left === 0) break;
    examined++;
    if (!stream.exists(entry.id)) {
      model.remove(entry.id);
      result.deleted.push(entry.id);
      left--;
      continue;
    }
    if (a.minIdle > 0 && now - entry.deliveredMs < a.minIdle) continue;
    const dead = a.justId ? undefined : model.dead(entry);
    if (dead !== undefined) result.deadLettered.push(dead);
    else {
      Object.assign(entry, { consumer: a.consumer, deliveredMs: now, deliveries: entry.deliveries + (a.justId ? 0 : 1) });
      result.claimed.push(entry.id);
      (model.consumers.get(a.consumer) as { activeMs: number | undefined }).activeMs = now;
    }
    left--;
  }
  return { nextId: candidates[examined]?.id ?? MIN_ID, ...result };
}

function modelHistory(model: Model, stream: FakeStream, a: Extract<Action, { kind: "history" }>, now: number): unknown {
  model.see(a.consumer, now);
  let own = model.pel.filter((entry) => entry.consumer === a.consumer && entry.id >= at(a.from));
  if (a.count > 0) own = own.slice(0, a.count);
  const result = { entries: [] as { id: StreamId; exists: boolean }[], deadLettered: [] as PendingEntry[] };
  for (const entry of own) {
    if (!stream.exists(entry.id)) result.entries.push({ id: entry.id, exists: false });
    else {
      const dead = model.dead(entry);
      if (dead !== undefined) result.deadLettered.push(dead);
      else {
        Object.assign(entry, { deliveredMs: now, deliveries: entry.deliveries + 1 });
        result.entries.push({ id: entry.id, exists: true });
      }
    }
  }
  return result;
}

function modelDeliver(model: Model, stream: FakeStream, a: Extract<Action, { kind: "deliver" }>, now: number): StreamId[] {
  model.see(a.consumer, now);
  const ids = stream.after(model.lastDeliveredId, a.count);
  for (const id of ids) {
    model.lastDeliveredId = id;
    if (a.noAck) continue;
    model.remove(id);
    model.insert({ id, consumer: a.consumer, deliveredMs: now, deliveries: 1 });
    (model.consumers.get(a.consumer) as { activeMs: number | undefined }).activeMs = now;
  }
  return ids;
}

function run(actions: Action[]): void {
  const stream = new FakeStream();
  for (let i = 1; i <= ENTRIES; i++) stream.add(`${i}-0`);
  let group = new ConsumerGroup({ name: "g", maxDeliveries: MAX_DELIVERIES, deadLetterKey: "dead" });
  const model = new Model();
  let now = 1000;
  for (const [step, a] of actions.entries()) {
    const label = `step ${step}: ${JSON.stringify(a)}`;
    if (a.kind === "deliver") {
      const ids = modelDeliver(model, stream, a, now);
      group.deliverNew(a.consumer, ids, now, a.noAck, stream.facts());
    } else if (a.kind === "history") {
      const expected = modelHistory(model, stream, a, now);
      assert.deepEqual(group.deliverHistory(a.consumer, at(a.from), a.count, now, stream.exists, deadLetter), expected, label);
    } else if (a.kind === "ack") {
      const ids = a.ids.map(at);
      const expected = new Set(ids.filter((id) => model.find(id) !== undefined)).size;
      for (const id of ids) model.remove(id);
      assert.equal(group.ack(ids), expected, label);
    } else if (a.kind === "claim") {
      const expected = modelClaim(model, stream, a, now);
      const options = { justId: a.justId, force: a.force };
      assert.deepEqual(
        group.claim(a.consumer, a.minIdle, a.ids.map(at), options, now, stream.exists, deadLetter),
        expected,
        label,
      );
    } else if (a.kind === "autoClaim") {
      const expected = modelAutoClaim(model, stream, a, now);
      const actual = group.autoClaim(a.consumer, a.minIdle, at(a.start), a.count, now, stream.exists, a.justId, deadLetter);
      assert.deepEqual(actual, expected, label);
    } else if (a.kind === "deleteConsumer") {
      const expected = model.pel.filter((entry) => entry.consumer === a.consumer).length;
      model.pel = model.pel.filter((entry) => entry.consumer !== a.consumer);
      model.consumers.delete(a.consumer);
      assert.equal(group.deleteConsumer(a.consumer), expected, label);
    } else if (a.kind === "createConsumer") {
      const expected = !model.consumers.has(a.consumer);
      if (expected) model.consumers.set(a.consumer, { seenMs: now, activeMs: undefined });
      assert.equal(group.createConsumer(a.consumer, now), expected, label);
    } else if (a.kind === "setId") {
      model.lastDeliveredId = at(a.to);
      group.setId(at(a.to));
    } else if (a.kind === "xdel") stream.del(`${a.index}-0`);
    else if (a.kind === "wait") now += a.ms;
    else group = decodeGroups(encodeGroups([group]))[0] as ConsumerGroup;
    const {
      name: _name,
      entriesRead: _read,
      maxDeliveries: _max,
      deadLetterKey: _key,
      ...actual
    } = groupState(group) as Record<string, unknown>;
    assert.deepEqual(actual, model.state(), label);
  }
}

test("a group agrees with the naive model over random command sequences", () => {
  fc.assert(
    fc.property(fc.array(action, { maxLength: 60 }), (actions) => run(actions)),
    { numRuns: 400 },
  );
});
