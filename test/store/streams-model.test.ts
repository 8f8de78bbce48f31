/**
 * The store's streams against a reference model (test/support/streams-model.ts): random action
 * lists of adds (generated, `<ms>-*` and explicit IDs, producer IDs, trims), deletes, trims,
 * XSETID, groups (create, `>` and history reads, acks, claims, autoclaims, consumer and group
 * deletion, dead-lettering), string puts and key deletes over stream keys, clock ticks,
 * checkpoints and reopens. After every step each stream's entries, counters, groups, pending
 * lists and consumers must be what the model says. The clock is fake: generated IDs and idle
 * times come out the same on every run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isLogbookError, type Store, type StoreOptions } from "../../src/index.js";
import { systemClock } from "../../src/io/clock.js";
import { openStore } from "../support/store-log.js";
import {
  type Delivered,
  type Fields,
  formatModelId,
  groupLag,
  ids,
  type ModelError,
  pendingIds,
  StreamsModel,
} from "../support/streams-model.js";
import { tempDir } from "../support/temp.js";

const KEYS = ["s1", "s2"] as const;
const ANY_KEY = ["s1", "s2", "dl"] as const;
const GROUPS = ["g1", "g2"] as const;
const CONSUMERS = ["c1", "c2", "c3"] as const;
const PRODUCER_WINDOW = 3;

type Key = (typeof ANY_KEY)[number];
type IdRequest = { kind: "auto" } | { kind: "ms"; delta: number } | { kind: "explicit"; delta: number; seq: number };
type Action =
  | { kind: "add"; key: Key; fields: Fields; id: IdRequest; producer?: string; noMkStream: boolean; maxLen?: number }
  | { kind: "delete"; key: Key; picks: number[] }
  | { kind: "trimLen"; key: Key; maxLen: number }
  | { kind: "trimMin"; key: Key; pick: number }
  | { kind: "setId"; key: Key; pick: number; ahead: number }
  | { kind: "createGroup"; key: Key; group: string; start: "$" | "0"; mkStream: boolean; deadLetter: boolean }
  | { kind: "readNew"; key: Key; group: string; consumer: string; count: number }
  | { kind: "readHistory"; key: Key; group: string; consumer: string; count: number }
  | { kind: "ack"; key: Key; group: string; picks: number[] }
  | { kind: "claim"; key: Key; group: string; consumer: string; minIdle: number; picks: number[] }
  | { kind: "autoClaim"; key: Key; group: string; consumer: string; minIdle: number; count: number }
  | { kind: "deleteConsumer"; key: Key; group: string; consumer: string }
  | { kind: "destroyGroup"; key: Key; group: string }
  | { kind: "put"; key: Key; value: string }
  | { kind: "deleteKey"; key: Key }
  | { kind: "tick"; ms: number }
  | { kind: "checkpoint" }
  | { kind: "reopen" };

// s1 most of the time, so that groups, reads and claims meet on one stream.
const key = fc.constantFrom("s1", "s1", "s1", ...KEYS);
const anyKey = fc.constantFrom(...ANY_KEY);
const group = fc.constantFrom(...GROUPS);
const consumer = fc.constantFrom(...CONSUMERS);
const picks = fc.array(fc.nat(20), { maxLength: 4 });
const k = <T extends string>(kind: T) => fc.constant(kind);
const fieldsArb: fc.Arbitrary<Fields> = fc.array(fc.tuple(fc.constantFrom("a", "b", "é"), fc.string({ maxLength: 4 })), {
  minLength: 1,
  maxLength: 3,
});
const idArb: fc.Arbitrary<IdRequest> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: "auto" as const }) },
  { weight: 1, arbitrary: fc.record({ kind: k("ms" as const), delta: fc.integer({ min: -2, max: 2 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: k("explicit" as const), delta: fc.integer({ min: -1000, max: 3 }), seq: fc.nat(2) }),
  },
);

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        kind: k("add" as const),
        key,
        fields: fieldsArb,
        id: idArb,
        producer: fc.constantFrom("p1", "p2", "p3", "p4", "p5"),
        noMkStream: fc.boolean(),
        maxLen: fc.nat(6),
      },
      { requiredKeys: ["kind", "key", "fields", "id", "noMkStream"] },
    ),
  },
  { weight: 2, arbitrary: fc.record({ kind: k("delete" as const), key: anyKey, picks }) },
  { weight: 1, arbitrary: fc.record({ kind: k("trimLen" as const), key: anyKey, maxLen: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ kind: k("trimMin" as const), key, pick: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: k("setId" as const), key, pick: fc.nat(20), ahead: fc.nat(3) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: k("createGroup" as const),
      key,
      group,
      start: fc.constantFrom("$" as const, "0" as const),
      mkStream: fc.boolean(),
      deadLetter: fc.boolean(),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ kind: k("readNew" as const), key, group, consumer, count: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: k("readHistory" as const), key, group, consumer, count: fc.integer({ min: 1, max: 3 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: k("ack" as const), key, group, picks }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: k("claim" as const), key, group, consumer, minIdle: fc.constantFrom(0, 10, 100), picks }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: k("autoClaim" as const),
      key,
      group,
      consumer,
      minIdle: fc.constantFrom(0, 10, 100),
      count: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: k("deleteConsumer" as const), key, group, consumer }) },
  { weight: 1, arbitrary: fc.record({ kind: k("destroyGroup" as const), key, group }) },
  { weight: 1, arbitrary: fc.record({ kind: k("put" as const), key: anyKey, value: fc.string({ maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: k("deleteKey" as const), key: anyKey }) },
  { weight: 3, arbitrary: fc.record({ kind: k("tick" as const), ms: fc.constantFrom(0, 1, 7, 50, 200) }) },
  { weight: 2, arbitrary: fc.constant({ kind: "checkpoint" as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: "reopen" as const }) },
);

/** A fake wall clock (IDs, idle times); the monotonic clock and timers stay real, for the log. */
function fakeClock(model: StreamsModel) {
  return { ...systemClock, wallMs: () => model.nowMs };
}

/** IDs an action may name on `key`: the stream's entries and pending IDs, and one never used. */
function candidates(model: StreamsModel, key: string): bigint[] {
  const stream = model.streams.get(key);
  if (stream === undefined) return [5n << 64n];
  const all = new Set(ids(stream));
  for (const g of stream.groups.values()) for (const id of g.pending.keys()) all.add(id);
  all.add(stream.lastId + 1n);
  return [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const pickIds = (model: StreamsModel, key: string, list: number[]) => {
  const all = candidates(model, key);
  return list.map((p) => all[p % all.length] as bigint);
};

async function outcome<T>(run: () => Promise<T>): Promise<T | ModelError> {
  try {
    return await run();
  } catch (error) {
    if (!isLogbookError(error)) throw error;
    return { error: error.code };
  }
}

const delivered = (r: { entries: { id: string }[]; deleted: string[]; deadLettered: { id: string }[]; nextId?: string }) => ({
  ids: r.entries.map((e) => e.id),
  deleted: r.deleted,
  deadLettered: r.deadLettered.map((e) => e.id),
  ...(r.nextId === undefined ? {} : { nextId: r.nextId }),
});

/** Runs `action` on the store and the model; returns [store's outcome, model's outcome]. */
async function step(store: Store, model: StreamsModel, a: Action): Promise<[unknown, unknown]> {
  const s = store.streams;
  switch (a.kind) {
    case "add": {
      const last = model.streams.get(a.key)?.lastId ?? 0n;
      const ms = BigInt(model.nowMs) + BigInt(a.id.kind === "auto" ? 0 : a.id.delta);
      const lastMs = last >> 64n;
      const request =
        a.id.kind === "auto"
          ? { kind: "auto" as const }
          : a.id.kind === "ms"
            ? { kind: "ms" as const, ms: ms < 0n ? 0n : ms }
            : { kind: "explicit" as const, id: ((a.id.delta < -500 ? lastMs : ms < 0n ? 0n : ms) << 64n) | BigInt(a.id.seq) };
      const idText = request.kind === "auto" ? "*" : request.kind === "ms" ? `${request.ms}-*` : formatModelId(request.id);
      const options = { noMkStream: a.noMkStream, producerId: a.producer, maxLen: a.maxLen };
      const trim = a.maxLen === undefined ? undefined : { maxLength: a.maxLen };
      return [
        await outcome(() => s.add(a.key, a.fields, { id: idText, noMkStream: a.noMkStream, producerId: a.producer, trim })),
        model.add(a.key, a.fields, request, options),
      ];
    }
    case "delete": {
      const list = pickIds(model, a.key, a.picks);
      return [await outcome(() => s.delete(a.key, list.map(formatModelId))), model.delete(a.key, list)];
    }
    case "trimLen":
      return [await outcome(() => s.trim(a.key, { maxLength: a.maxLen })), model.trim(a.key, { maxLen: a.maxLen })];
    case "trimMin": {
      const [minId] = pickIds(model, a.key, [a.pick]) as [bigint];
      return [await outcome(() => s.trim(a.key, { minId: formatModelId(minId) })), model.trim(a.key, { minId })];
    }
    case "setId": {
      const [id] = pickIds(model, a.key, [a.pick]) as [bigint];
      const target = id + BigInt(a.ahead);
      return [await outcome(() => s.setId(a.key, formatModelId(target)).then(() => true)), model.setId(a.key, target)];
    }
    case "createGroup": {
      const options = a.deadLetter ? { maxDeliveries: 2, deadLetterKey: "dl" } : {};
      return [
        await outcome(() => s.createGroup(a.key, a.group, { start: a.start, mkStream: a.mkStream, ...options }).then(() => true)),
        model.createGroup(a.key, a.group, a.start, { mkStream: a.mkStream, ...options }),
      ];
    }
    case "readNew": {
      const got = await outcome(() => s.readGroup(a.group, a.consumer, { [a.key]: ">" }, { count: a.count }));
      const want = model.readNew(a.key, a.group, a.consumer, a.count);
      if (got === null || "error" in (got as object)) return [got, Array.isArray(want) && want.length === 0 ? null : want];
      const entries = (got as { entries: { id: string; fields: Fields | null }[] }[])[0]?.entries ?? [];
      return [entries, (want as string[]).map((id) => ({ id, fields: fieldsOf(model, a.key, id) }))];
    }
    case "readHistory": {
      const got = await outcome(() => s.readGroup(a.group, a.consumer, { [a.key]: "0" }, { count: a.count }));
      const want = model.readHistory(a.key, a.group, a.consumer, 0n, a.count);
      if ("error" in (got as object)) return [got, want];
      const entries = (got as { entries: { id: string; fields: Fields | null }[] }[])[0]?.entries ?? [];
      if ("error" in want) return [entries, want];
      return [entries, want.ids.map((id) => ({ id, fields: fieldsOf(model, a.key, id) }))];
    }
    case "ack": {
      const list = pickIds(model, a.key, a.picks);
      return [await outcome(() => s.ack(a.key, a.group, list.map(formatModelId))), model.ack(a.key, a.group, list)];
    }
    case "claim": {
      const list = pickIds(model, a.key, a.picks);
      const got = await outcome(() => s.claim(a.key, a.group, a.consumer, a.minIdle, list.map(formatModelId)));
      return ["error" in got ? got : delivered(got), model.claim(a.key, a.group, a.consumer, a.minIdle, list)] satisfies [
        unknown,
        Delivered | ModelError,
      ];
    }
    case "autoClaim": {
      const got = await outcome(() => s.autoClaim(a.key, a.group, a.consumer, a.minIdle, "0", { count: a.count }));
      return ["error" in got ? got : delivered(got), model.autoClaim(a.key, a.group, a.consumer, a.minIdle, a.count)];
    }
    case "deleteConsumer":
      return [
        await outcome(() => s.deleteConsumer(a.key, a.group, a.consumer)),
        model.deleteConsumer(a.key, a.group, a.consumer),
      ];
    case "destroyGroup":
      return [await outcome(() => s.destroyGroup(a.key, a.group)), model.destroyGroup(a.key, a.group)];
    case "put":
      model.put(a.key, a.value);
      return [await store.put(a.key, a.value).then(() => true), true];
    case "deleteKey":
      model.deleteKey(a.key);
      return [await store.delete(a.key).then(() => true), true];
    default:
      return [true, true];
  }
}

function fieldsOf(model: StreamsModel, key: string, id: string): Fields | null {
  const stream = model.streams.get(key);
  for (const [entryId, fields] of stream?.entries ?? []) if (formatModelId(entryId) === id) return fields;
  return null;
}

/** What the store shows of every key. */
async function observe(store: Store) {
  const s = store.streams;
  const out: Record<string, unknown> = {};
  for (const key of ANY_KEY) {
    if (!s.keys().includes(key)) {
      const value = (await store.get(key))?.value;
      out[key] = value === undefined ? null : { string: value };
      if (value !== undefined)
        assert.throws(
          () => s.length(key),
          (e) => isLogbookError(e) && e.code === "LOGBOOK_WRONG_TYPE",
        );
      continue;
    }
    const info = await s.info(key);
    const groups = s.groups(key).sort((a, b) => (a.name < b.name ? -1 : 1));
    out[key] = {
      entries: await s.range(key),
      length: s.length(key),
      info: [
        info.length,
        info.lastGeneratedId,
        info.maxDeletedEntryId,
        info.entriesAdded,
        info.recordedFirstEntryId,
        info.groups,
      ],
      groups: groups.map((g) => ({
        ...g,
        pendingList: s.pendingEntries(key, g.name),
        consumerList: s.consumers(key, g.name).sort((a, b) => (a.name < b.name ? -1 : 1)),
      })),
    };
  }
  return out;
}

/** What the model says the store shows. */
function expected(model: StreamsModel) {
  const out: Record<string, unknown> = {};
  const now = model.nowMs;
  for (const key of ANY_KEY) {
    const stream = model.streams.get(key);
    if (stream === undefined) {
      const value = model.strings.get(key);
      out[key] = value === undefined ? null : { string: value };
      continue;
    }
    const all = ids(stream);
    const names = [...stream.groups.keys()].sort();
    out[key] = {
      entries: all.map((id) => ({ id: formatModelId(id), fields: stream.entries.get(id) })),
      length: all.length,
      info: [
        all.length,
        formatModelId(stream.lastId),
        formatModelId(stream.maxDeletedId),
        stream.entriesAdded,
        formatModelId(all[0] ?? 0n),
        stream.groups.size,
      ],
      groups: names.map((name) => {
        const g = stream.groups.get(name) as NonNullable<ReturnType<typeof stream.groups.get>>;
        const consumers = [...g.consumers.keys()].sort();
        return {
          name,
          consumers: g.consumers.size,
          pending: g.pending.size,
          lastDeliveredId: formatModelId(g.lastDelivered),
          entriesRead: g.entriesRead ?? null,
          lag: groupLag(stream, g),
          maxDeliveries: g.maxDeliveries ?? null,
          deadLetterKey: g.deadLetterKey ?? null,
          pendingList: pendingIds(g).map((id) => {
            const n = g.pending.get(id) as { consumer: string; deliveredMs: number; deliveries: number };
            return {
              id: formatModelId(id),
              consumer: n.consumer,
              idleMs: Math.max(0, now - n.deliveredMs),
              deliveries: n.deliveries,
            };
          }),
          consumerList: consumers.map((c) => {
            const state = g.consumers.get(c) as { seenMs: number; activeMs: number | undefined };
            return {
              name: c,
              pending: pendingIds(g, c).length,
              idleMs: Math.max(0, now - state.seenMs),
              inactiveMs: state.activeMs === undefined ? -1 : now - state.activeMs,
            };
          }),
        };
      }),
    };
  }
  return out;
}

const NUM_RUNS = Number(process.env.LOGBOOK_STREAMS_MODEL_RUNS ?? 25);

test("streams match the reference model after every step, across checkpoints and reopens", async () => {
  let steps = 0;
  let reopens = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: 40, size: "medium" }), async (actions) => {
      const { path: dir, cleanup } = await tempDir();
      const model = new StreamsModel(PRODUCER_WINDOW, 1_000);
      const options: StoreOptions = {
        segmentBytes: 16 * 1024 + 64,
        batchBytesMax: 16 * 1024,
        checkpointEveryBytes: 0,
        valueEncoding: "utf8",
        streamProducerWindow: PRODUCER_WINDOW,
        clock: fakeClock(model),
      };
      let store = await openStore(dir, options);
      try {
        for (const [i, action] of actions.entries()) {
          if (action.kind === "tick") model.nowMs += action.ms;
          if (action.kind === "checkpoint") await store.checkpoint();
          if (action.kind === "reopen") {
            await store.close();
            store = await openStore(dir, options);
            reopens++;
          }
          const [got, want] = await step(store, model, action);
          assert.deepEqual(got, want, `step ${i}: ${JSON.stringify(action)}`);
          assert.deepEqual(await observe(store), expected(model), `state after step ${i}: ${JSON.stringify(action)}`);
          steps++;
        }
      } finally {
        await store.close();
        await cleanup();
      }
    }),
    { numRuns: NUM_RUNS },
  );
  console.log(`# streams model: ${NUM_RUNS} runs, ${steps} steps checked, ${reopens} reopens`);
});

test("a history read dead-letters a consumer's due entry even when other consumers' entries come first", async () => {
  const { path: dir, cleanup } = await tempDir();
  const store = await openStore(dir, { checkpointEveryBytes: 0 });
  try {
    const s = store.streams;
    await s.createGroup("s", "g", { start: "0", mkStream: true, maxDeliveries: 2, deadLetterKey: "dl" });
    for (let i = 1; i <= 3; i++) await s.add("s", { n: String(i) }, { id: `${i}-0` });
    await s.readGroup("g", "c1", { s: ">" }, { count: 2 });
    await s.readGroup("g", "c2", { s: ">" }, { count: 1 });
    await s.readGroup("g", "c2", { s: "0" });
    const third = await s.readGroup("g", "c2", { s: "0" }, { count: 1 });
    assert.deepEqual(third?.[0]?.entries, []);
    assert.deepEqual(
      s.pendingEntries("s", "g").map((e) => e.id),
      ["1-0", "2-0"],
    );
    assert.equal(s.length("dl"), 1);
  } finally {
    await store.close();
    await cleanup();
  }
});
