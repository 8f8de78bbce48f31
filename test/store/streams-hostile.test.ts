/**
 * Hostile input to the stream API: field counts past the ceiling, IDs at and past 2^64, malformed
 * IDs, 0-0, IDs going backwards, trims and retention of 0, a group read asking for 1e9 entries,
 * a claim of thousands of IDs, names past their ceilings, arguments of the wrong type. Each is a
 * typed error (a TypeError for a wrong type) or a bounded result, and afterwards everything
 * acknowledged before is still there, before and after a reopen.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isLogbookError, type Store } from "../../src/index.js";
import { openStore } from "../support/store-log.js";
import { tempDir } from "../support/temp.js";

const U64_MAX = "18446744073709551615";
const code = (c: string) => (e: unknown) => isLogbookError(e) && e.code === c;
const invalid = code("LOGBOOK_INVALID_ARGUMENT");
const typeError = (e: unknown) => e instanceof TypeError;

async function snapshot(store: Store) {
  const out: Record<string, unknown> = {};
  for (const key of store.streams.keys().sort()) {
    out[String(key)] = {
      entries: await store.streams.range(key, { count: 100_000 }),
      groups: store.streams.groups(key),
      pending: store.streams.groups(key).map((g) => store.streams.pendingEntries(key, g.name).map(({ idleMs: _, ...p }) => p)),
    };
  }
  return out;
}

async function seed(store: Store): Promise<void> {
  const s = store.streams;
  await s.createGroup("s", "g", { start: "0", mkStream: true });
  for (let i = 1; i <= 20; i++) await s.add("s", { n: String(i), body: "x".repeat(i * 10) }, { id: `${i}-0` });
  await s.readGroup("g", "c", { s: ">" }, { count: 10 });
  await s.ack("s", "g", ["1-0", "2-0"]);
  await s.add("big", { a: "1" }, { id: `${U64_MAX}-0` });
}

test("hostile arguments are refused typed or bounded, and leave what was acknowledged as it was", async () => {
  const { path: dir, cleanup } = await tempDir();
  let store = await openStore(dir, { checkpointEveryBytes: 0 });
  try {
    await seed(store);
    await store.checkpoint();
    const before = await snapshot(store);
    const s = store.streams;

    // Fields: past the ceiling, none, huge values, wrong types.
    const many = Array.from({ length: 1025 }, (_, i) => [`f${i}`, "v"] as [string, string]);
    await assert.rejects(s.add("s", many), invalid);
    await assert.rejects(s.add("s", Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`f${i}`, "v"]))), invalid);
    await assert.rejects(s.add("s", { a: "x".repeat(2 * 1024 * 1024) }), invalid);
    await assert.rejects(s.add("s", []), invalid);
    await assert.rejects(s.add("s", { a: 1 as unknown as string }), typeError);
    await assert.rejects(s.add("s", null as unknown as []), typeError);
    await assert.rejects(s.add("s", [["a"]] as unknown as []), typeError);

    // IDs: past 2^64, malformed, 0-0, backwards, equal, and the exhausted stream.
    for (const bad of [
      `18446744073709551616-0`,
      `0-18446744073709551616`,
      `${"9".repeat(30)}-1`,
      "1-",
      "-1",
      "1-2-3",
      " 1-1",
      "1.5-0",
      "0x10-0",
      "",
      "+1-0",
      "1e3-0",
    ]) {
      await assert.rejects(s.add("s", { a: "1" }, { id: bad }), invalid, `add ${JSON.stringify(bad)}`);
      await assert.rejects(s.ack("s", "g", [bad]), invalid, `ack ${JSON.stringify(bad)}`);
      await assert.rejects(s.range("s", { start: bad }), invalid, `range ${JSON.stringify(bad)}`);
    }
    await assert.rejects(s.add("fresh", { a: "1" }, { id: "0-0" }), /greater than 0-0/);
    await assert.rejects(s.add("s", { a: "1" }, { id: "20-0" }), invalid);
    await assert.rejects(s.add("s", { a: "1" }, { id: "3-0" }), invalid);
    await assert.rejects(s.add("s", { a: "1" }, { id: "19-*" }), invalid);
    assert.equal(await s.add("max", { a: "1" }, { id: `${U64_MAX}-${U64_MAX}` }), `${U64_MAX}-${U64_MAX}`);
    await assert.rejects(s.add("max", { a: "1" }), /exhausted/);
    await assert.rejects(s.add("max", { a: "1" }, { id: `${U64_MAX}-*` }), invalid);
    await assert.rejects(s.add("big", { a: "1" }, { id: `${U64_MAX}-0` }), invalid);
    await assert.rejects(s.add("s", { a: "1" }, { id: 5 as unknown as string }), typeError);
    await assert.rejects(s.ack("s", "g", [5 as unknown as string]), typeError);
    await assert.rejects(s.setId("s", "1-0"), invalid);

    // Trims and retention of 0 are legal (an empty stream); negative, fractional and mixed ones are not.
    assert.equal(await s.trim("t0", { maxLength: 0 }), 0);
    await s.add("t0", { a: "1" });
    assert.equal(await s.trim("t0", { maxLength: 0 }), 1);
    assert.equal(s.length("t0"), 0);
    await s.setRetention("r0", { maxLength: 0, maxBytes: 0, maxAgeMs: 0 });
    await s.add("r0", { a: "1" });
    assert.equal(s.length("r0"), 1, "retention 0 is no limit");
    for (const bad of [{ maxLength: -1 }, { maxLength: 1.5 }, { maxLength: 1, minId: "1" }, {}, { maxLength: 2 ** 60 }]) {
      await assert.rejects(s.trim("s", bad), invalid, JSON.stringify(bad));
    }
    await assert.rejects(s.trim("s", { maxLength: 5, limit: 10 }), invalid);
    await assert.rejects(s.setRetention("r0", { maxAgeMs: Number.NaN }), invalid);

    // A group read of 1e9: clamped, with little memory.
    await s.createGroup("wide", "g", { start: "0", mkStream: true });
    for (let i = 0; i < 50; i++) await s.add("wide", { i: String(i) });
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const wide = await s.readGroup("g", "c", { wide: ">" }, { count: 1e9 });
    assert.equal(wide?.[0]?.entries.length, 50);
    assert.equal((await s.read({ wide: "0" }, { count: 1e9 }))?.[0]?.entries.length, 50);
    assert.equal(s.pendingEntries("wide", "g", { count: 1e9 }).length, 50);
    assert.equal((await s.autoClaim("wide", "g", "c2", 0, "0", { count: 1e9 })).entries.length, 50);
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, "a count of 1e9 allocates nothing for it");
    await assert.rejects(s.readGroup("g", "c", { wide: ">" }, { count: -1 }), invalid);
    await assert.rejects(s.readGroup("g", "c", { wide: ">" }, { count: Number.POSITIVE_INFINITY }), invalid);
    await assert.rejects(s.readGroup("g", "c", { wide: ">" }, { count: 2 ** 64 }), invalid);

    // A claim of thousands of IDs, most never pending.
    const ids = Array.from({ length: 5000 }, (_, i) => `${i + 1}-0`);
    const claimed = await s.claim("s", "g", "c9", 0, ids);
    assert.deepEqual(
      claimed.entries.map((e) => e.id),
      ["3-0", "4-0", "5-0", "6-0", "7-0", "8-0", "9-0", "10-0"],
    );
    assert.equal(await s.ack("s", "g", ids.slice(100)), 0);

    // Names past their ceilings, empty, and of the wrong type.
    const long = "n".repeat(257);
    await assert.rejects(s.createGroup("s", long), invalid);
    await assert.rejects(s.createGroup("s", ""), invalid);
    await assert.rejects(s.readGroup("g", long, { s: ">" }), invalid);
    await assert.rejects(s.add("s", { a: "1" }, { producerId: long }), invalid);
    await assert.rejects(s.add("k".repeat(5000), { a: "1" }), invalid);
    await assert.rejects(s.createGroup("s", 7 as unknown as string), typeError);
    await assert.rejects(s.readGroup("g", null as unknown as string, { s: ">" }), typeError);
    await assert.rejects(s.claim("s", "g", "c", "0" as unknown as number, ["1-0"]), typeError);
    await assert.rejects(s.readGroup("g", "c", { s: ">" }, { count: "5" as unknown as number }), typeError);
    await assert.rejects(s.range("s", { start: 1 as unknown as string }), typeError);

    // Wrong kind of key.
    await store.put("str", "v");
    await assert.rejects(s.add("str", { a: "1" }), code("LOGBOOK_WRONG_TYPE"));
    await assert.rejects(s.readGroup("g", "c", { str: ">" }), code("LOGBOOK_WRONG_TYPE"));

    const after = await snapshot(store);
    for (const key of ["s", "big"]) {
      const was = before[key] as { entries: unknown; pending: unknown };
      const now = after[key] as { entries: unknown; pending: unknown };
      assert.deepEqual(now.entries, was.entries, `${key}: entries`);
    }
    const expectPending = (before.s as { pending: { id: string }[][] }).pending[0]?.map((p) => p.id);
    assert.deepEqual(
      (after.s as { pending: { id: string }[][] }).pending[0]?.map((p) => p.id),
      expectPending,
    );
    await store.close();
    store = await openStore(dir, { checkpointEveryBytes: 0 });
    const reopened = await snapshot(store);
    assert.deepEqual(
      Object.fromEntries(Object.entries(reopened).map(([k, v]) => [k, (v as { entries: unknown }).entries])),
      Object.fromEntries(Object.entries(after).map(([k, v]) => [k, (v as { entries: unknown }).entries])),
    );
    assert.deepEqual(
      reopened.s && (reopened.s as { pending: unknown }).pending,
      after.s && (after.s as { pending: unknown }).pending,
    );
  } finally {
    await store.close();
    await cleanup();
  }
});
