import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import type { Store } from "../../src/store/index.js";
import { openStore } from "../support/store-log.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "logbook-streams-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const code = (c: string) => (e: unknown) => isLogbookError(e) && e.code === c;

async function withStore<T>(run: (store: Store) => Promise<T>, options = {}): Promise<T> {
  const store = await openStore(dir, options);
  try {
    return await run(store);
  } finally {
    await store.close();
  }
}

test("adds get increasing IDs, given or generated, and ranges read them back in order", async () => {
  await withStore(async (store) => {
    assert.equal(await store.streams.add("s", { a: "1" }, { id: "5-1" }), "5-1");
    assert.equal(await store.streams.add("s", [["b", "2"]], { id: "5-*" }), "5-2");
    const generated = (await store.streams.add("s", { c: "3" })) as string;
    assert.ok(BigInt(generated.split("-")[0] as string) > 5n);
    const entries = await store.streams.range("s");
    assert.deepEqual(
      entries.map((e) => e.id),
      ["5-1", "5-2", generated],
    );
    assert.deepEqual(entries[1]?.fields, [["b", "2"]]);
    assert.deepEqual(
      (await store.streams.range("s", { start: "(5-1", end: "5", count: 5 })).map((e) => e.id),
      ["5-2"],
    );
    assert.deepEqual(
      (await store.streams.range("s", { reverse: true, count: 1 })).map((e) => e.id),
      [generated],
    );
    assert.equal(store.streams.length("s"), 3);
  });
});

test("an ID not above the last, 0-0 and malformed IDs are typed errors, and change nothing", async () => {
  await withStore(async (store) => {
    await store.streams.add("s", { a: "1" }, { id: "10-0" });
    await assert.rejects(store.streams.add("s", { a: "1" }, { id: "10-0" }), code("LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(store.streams.add("s", { a: "1" }, { id: "9-5" }), code("LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(store.streams.add("t", { a: "1" }, { id: "0-0" }), /greater than 0-0/);
    for (const bad of ["", "-1", "1-2-3", "abc", "18446744073709551616-0", "1--1"]) {
      await assert.rejects(store.streams.add("s", { a: "1" }, { id: bad }), code("LOGBOOK_INVALID_ARGUMENT"), bad);
    }
    await assert.rejects(store.streams.add("s", {}), code("LOGBOOK_INVALID_ARGUMENT"));
    const many = Array.from({ length: 5000 }, (_, i) => [`f${i}`, "v"] as [string, string]);
    await assert.rejects(store.streams.add("s", many), code("LOGBOOK_INVALID_ARGUMENT"));
    assert.equal(store.streams.length("s"), 1);
    assert.equal(store.streams.length("t"), 0);
  });
});

test("the largest ID is accepted once, then the stream is exhausted", async () => {
  await withStore(async (store) => {
    const max = "18446744073709551615-18446744073709551615";
    assert.equal(await store.streams.add("s", { a: "1" }, { id: max }), max);
    await assert.rejects(store.streams.add("s", { a: "1" }), /exhausted/);
  });
});

test("a key holds a string or a stream: the wrong kind of operation is LOGBOOK_WRONG_TYPE; put and delete replace either", async () => {
  await withStore(async (store) => {
    await store.put("k", "text");
    await assert.rejects(store.streams.add("k", { a: "1" }), code("LOGBOOK_WRONG_TYPE"));
    await store.streams.add("s", { a: "1" });
    assert.throws(() => store.getSync("s"), code("LOGBOOK_WRONG_TYPE"));
    assert.throws(() => store.streams.length("k"), code("LOGBOOK_WRONG_TYPE"));
    await store.put("s", "now a string");
    assert.equal((await store.get("s"))?.value, "now a string");
    assert.throws(() => store.streams.length("s"), code("LOGBOOK_WRONG_TYPE"));
    assert.deepEqual(store.streams.keys(), []);
    await store.delete("k");
    assert.ok(await store.streams.add("k", { a: "1" }));
  });
});

test("a consumer group delivers each entry once, keeps it pending until acked, and claims idle ones", async () => {
  await withStore(async (store) => {
    await store.streams.createGroup("s", "g", { start: "0", mkStream: true });
    for (let i = 1; i <= 4; i++) await store.streams.add("s", { n: String(i) }, { id: `${i}-0` });
    const first = await store.streams.readGroup("g", "alice", { s: ">" }, { count: 3 });
    assert.deepEqual(
      first?.[0]?.entries.map((e) => e.id),
      ["1-0", "2-0", "3-0"],
    );
    const second = await store.streams.readGroup("g", "bob", { s: ">" });
    assert.deepEqual(
      second?.[0]?.entries.map((e) => e.id),
      ["4-0"],
    );
    assert.equal(await store.streams.readGroup("g", "bob", { s: ">" }), null);
    assert.equal(await store.streams.ack("s", "g", ["1-0", "1-0", "9-0"]), 1);
    const summary = store.streams.pending("s", "g");
    assert.equal(summary.count, 3);
    assert.deepEqual(summary.consumers, [
      { name: "alice", count: 2 },
      { name: "bob", count: 1 },
    ]);
    const history = await store.streams.readGroup("g", "alice", { s: "0" });
    assert.deepEqual(
      history?.[0]?.entries.map((e) => e.id),
      ["2-0", "3-0"],
    );
    const claimed = await store.streams.claim("s", "g", "bob", 0, ["2-0"]);
    assert.deepEqual(
      claimed.entries.map((e) => e.id),
      ["2-0"],
    );
    const detail = store.streams.pendingEntries("s", "g", { consumer: "bob" });
    assert.deepEqual(
      detail.map((d) => d.id),
      ["2-0", "4-0"],
    );
    const auto = await store.streams.autoClaim("s", "g", "carol", 0, "0", { count: 10 });
    assert.deepEqual(auto.entries.map((e) => e.id).sort(), ["2-0", "3-0", "4-0"]);
    assert.equal(auto.nextId, "0-0");
  });
});

test("group operations on a missing stream or group are LOGBOOK_NO_GROUP; creating a group twice is LOGBOOK_GROUP_EXISTS", async () => {
  await withStore(async (store) => {
    await assert.rejects(store.streams.readGroup("g", "c", { s: ">" }), code("LOGBOOK_NO_GROUP"));
    await assert.rejects(store.streams.createGroup("s", "g"), code("LOGBOOK_NOT_FOUND"));
    await store.streams.createGroup("s", "g", { mkStream: true });
    await assert.rejects(store.streams.createGroup("s", "g"), code("LOGBOOK_GROUP_EXISTS"));
    assert.throws(() => store.streams.pending("s", "nope"), code("LOGBOOK_NO_GROUP"));
  });
});

test("an entry delivered maxDeliveries times without an ack moves to the dead-letter stream with its history", async () => {
  await withStore(async (store) => {
    await store.streams.createGroup("jobs", "workers", {
      start: "0",
      mkStream: true,
      maxDeliveries: 2,
      deadLetterKey: "jobs:dead",
    });
    await store.streams.add("jobs", { task: "poison" }, { id: "1-0" });
    await store.streams.readGroup("workers", "w1", { jobs: ">" });
    await store.streams.claim("jobs", "workers", "w2", 0, ["1-0"]);
    const third = await store.streams.claim("jobs", "workers", "w3", 0, ["1-0"]);
    assert.deepEqual(third.entries, []);
    assert.equal(third.deadLettered.length, 1);
    assert.equal(store.streams.pending("jobs", "workers").count, 0);
    const dead = await store.streams.range("jobs:dead");
    assert.equal(dead.length, 1);
    const fields = Object.fromEntries(dead[0]?.fields ?? []);
    assert.equal(fields.task, "poison");
    assert.equal(fields["dead-letter-id"], "1-0");
    assert.equal(fields["dead-letter-deliveries"], "2");
  });
});

test("a retried add with the same producer ID returns the first ID and adds nothing, across a reopen", async () => {
  const first = await withStore(async (store) => {
    const id = await store.streams.add("s", { a: "1" }, { producerId: "order-17" });
    assert.equal(await store.streams.add("s", { a: "1" }, { producerId: "order-17" }), id);
    return id;
  });
  await withStore(async (store) => {
    assert.equal(await store.streams.add("s", { a: "1" }, { producerId: "order-17" }), first);
    assert.equal(store.streams.length("s"), 1);
  });
});

test("a blocking read waits for the next commit to the stream and wakes without polling; it times out with null", async () => {
  await withStore(async (store) => {
    await store.streams.add("s", { a: "0" }, { id: "1-0" });
    const waiting = store.streams.read({ s: "$" }, { blockMs: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    await store.streams.add("s", { a: "1" }, { id: "2-0" });
    const got = await waiting;
    assert.deepEqual(
      got?.[0]?.entries.map((e) => e.id),
      ["2-0"],
    );
    assert.equal(await store.streams.read({ s: "$" }, { blockMs: 30 }), null);
    await store.streams.createGroup("s", "g");
    const groupWait = store.streams.readGroup("g", "c", { s: ">" }, { blockMs: 5000 });
    await new Promise((r) => setTimeout(r, 20));
    await store.streams.add("s", { a: "2" }, { id: "3-0" });
    assert.deepEqual(
      (await groupWait)?.[0]?.entries.map((e) => e.id),
      ["3-0"],
    );
    const aborter = new AbortController();
    const aborted = store.streams.read({ s: "$" }, { blockMs: 0, signal: aborter.signal });
    aborter.abort();
    await assert.rejects(aborted, code("LOGBOOK_ABORTED"));
  });
});

test("trims by count, by minimum ID and by bytes; retention trims after each add", async () => {
  await withStore(async (store) => {
    for (let i = 1; i <= 10; i++) await store.streams.add("s", { n: "x".repeat(10) }, { id: `${i}-0` });
    assert.equal(await store.streams.trim("s", { maxLength: 8 }), 2);
    assert.equal(await store.streams.trim("s", { minId: "5" }), 2);
    assert.deepEqual((await store.streams.range("s")).map((e) => e.id)[0], "5-0");
    assert.ok((await store.streams.trim("s", { maxBytes: 1 })) > 0);
    await store.streams.setRetention("r", { maxLength: 3 });
    for (let i = 1; i <= 5; i++) await store.streams.add("r", { n: String(i) });
    assert.equal(store.streams.length("r"), 3);
    await assert.rejects(store.streams.trim("s", {}), code("LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(store.streams.setRetention("s", { maxLength: -1 }), code("LOGBOOK_INVALID_ARGUMENT"));
  });
});

test("streams and groups come back exactly after a reopen, from the log alone and from a checkpoint", async () => {
  const expected = await withStore(async (store) => {
    await store.streams.createGroup("s", "g", { start: "0", mkStream: true });
    for (let i = 1; i <= 6; i++) await store.streams.add("s", { n: String(i) }, { id: `${i}-0` });
    await store.streams.readGroup("g", "a", { s: ">" }, { count: 4 });
    await store.streams.ack("s", "g", ["2-0"]);
    await store.streams.delete("s", ["5-0"]);
    await store.put("k", "v");
    return snapshot(store);
  });
  await withStore(async (store) => {
    assert.deepEqual(await snapshot(store), expected);
    await store.checkpoint();
  });
  await withStore(async (store) => {
    assert.deepEqual(await snapshot(store), expected);
    assert.equal(store.recovery.recordsReplayed, 0);
    await store.streams.add("s", { n: "7" }, { id: "7-0" });
  });
  await withStore(async (store) => {
    assert.deepEqual(
      (await store.streams.range("s")).map((e) => e.id),
      ["1-0", "2-0", "3-0", "4-0", "6-0", "7-0"],
    );
  });
});

async function snapshot(store: Store) {
  return {
    entries: await store.streams.range("s"),
    pending: store.streams.pendingEntries("s", "g").map(({ idleMs: _, ...rest }) => rest),
    groups: store.streams.groups("s"),
    info: { ...(await store.streams.info("s")) },
    k: (await store.get("k"))?.value,
  };
}

test("a batch mixes key-value writes and stream operations in one record, and replay applies them alike", async () => {
  await withStore(async (store) => {
    await store.streams.createGroup("orders", "billing", { start: "0", mkStream: true });
    const lsn = await store.batch([
      { type: "put", key: "order:1", value: { total: 5 } },
      { type: "streamAdd", key: "orders", fields: { order: "1" }, id: "1-0" },
      { type: "streamAdd", key: "orders", fields: { order: "2" }, id: "2-0" },
    ]);
    assert.equal((await store.get("order:1"))?.version, lsn);
    assert.deepEqual(
      (await store.streams.range("orders")).map((e) => e.id),
      ["1-0", "2-0"],
    );
    await store.streams.readGroup("billing", "b", { orders: ">" });
    await store.batch([
      { type: "delete", key: "order:1" },
      { type: "streamAck", key: "orders", group: "billing", ids: ["1-0"] },
      { type: "streamDelete", key: "orders", ids: ["2-0"] },
    ]);
    await assert.rejects(
      store.batch([
        { type: "put", key: "plain", value: 1 },
        { type: "streamAdd", key: "plain", fields: { a: "1" } },
      ]),
      code("LOGBOOK_WRONG_TYPE"),
    );
    assert.equal((await store.get("plain"))?.value, 1, "the put of a batch whose stream add failed stays applied");
  });
  await withStore(async (store) => {
    assert.equal(await store.get("order:1"), undefined);
    assert.deepEqual(
      (await store.streams.range("orders")).map((e) => e.id),
      ["1-0"],
    );
    assert.deepEqual(store.streams.pending("orders", "billing").count, 1);
    assert.equal((await store.get("plain"))?.value, 1);
  });
});

test("retention by age trims a stream nobody adds to, as a logged trim that replay repeats", async () => {
  let now = 1_000_000;
  const clock = { monotonicMs: () => performance.now(), wallMs: () => now };
  await withStore(
    async (store) => {
      await store.streams.setRetention("s", { maxAgeMs: 60_000 });
      await store.streams.add("s", { a: "old" });
      now += 30_000;
      await store.streams.add("s", { a: "newer" });
      now += 45_000;
      assert.equal(await store.streams.retention.sweep(), 1);
      assert.deepEqual(
        (await store.streams.range("s")).map((e) => e.fields),
        [[["a", "newer"]]],
      );
      assert.equal(await store.streams.retention.sweep(), 0, "nothing older is left");
    },
    { clock, streamRetentionSweepMs: 0 },
  );
  await withStore(async (store) => assert.equal(store.streams.length("s"), 1), { clock, streamRetentionSweepMs: 0 });
});

test("thousands of blocked readers wait without polling; a commit wakes only those on its key", async () => {
  await withStore(async (store) => {
    const readers = 5000;
    const waiting = Array.from({ length: readers }, (_, i) => store.streams.read({ [`k${i % 50}`]: "$" }, { blockMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 50));
    await store.streams.add("k7", { a: "1" });
    const woken = await Promise.all(waiting.filter((_, i) => i % 50 === 7));
    assert.equal(woken.length, readers / 50);
    for (const read of woken) assert.equal(read?.[0]?.entries.length, 1);
    const others = waiting.filter((_, i) => i % 50 !== 7);
    const settled = await Promise.race([
      Promise.any(others).then(() => "woken"),
      new Promise((r) => setTimeout(() => r("waiting"), 100)),
    ]);
    assert.equal(settled, "waiting", "readers of other keys still wait");
    for (let k = 0; k < 50; k++) if (k !== 7) await store.streams.add(`k${k}`, { a: "1" });
    assert.equal((await Promise.all(others)).filter((r) => r?.[0]?.entries.length === 1).length, others.length);
  });
});

test("fields keep their UTF-8 text and their bytes, ASCII or not", async () => {
  await withStore(async (store) => {
    const fields: [string, string][] = [
      ["plain", "ascii"],
      ["héllo", "wörld ✓ 🚢"],
      ["", ""],
    ];
    const id = (await store.streams.add("s", fields)) as string;
    await store.streams.add("s", [["raw", new Uint8Array([0x68, 0xc3, 0xa9])]]);
    const [first, second] = await store.streams.range("s");
    assert.equal(first?.id, id);
    assert.deepEqual(first?.fields, fields);
    assert.deepEqual(second?.fields, [["raw", "hé"]]);
  });
});
