/**
 * store.keyspace, the store as the Redis protocol uses it: reads of the applied and of the
 * newest state, atomic multi-operation writes, strings and streams side by side in one key
 * order, range deletes, and what replay and the change feed make of it all.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError, type Store, type StoreOptions } from "../../src/index.js";
import type { Change } from "../../src/store/index.js";
import { commitGate, openStore } from "../support/store-log.js";
import { tempDir } from "../support/temp.js";

const SMALL: StoreOptions = { segmentBytes: 256 * 1024, batchBytesMax: 64 * 1024, checkpointEveryBytes: 0, expirySweepMs: 0 };

function keys(store: Store, gte = "", lt = ""): string[] {
  return [...store.keyspace.scan({ gte, lt })].map(({ key, kind }) => `${key}:${kind}`);
}

async function changesOf(store: Store, from: number, count: number): Promise<Change[]> {
  const changes: Change[] = [];
  for await (const change of store.changes({ from })) {
    changes.push(change);
    if (changes.length === count) break;
  }
  return changes;
}

describe("store.keyspace", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("get reads acknowledged writes; latest reads every write sequenced, in the same step as it is written", async () => {
    const gate = commitGate();
    await using store = await openStore(dir, { ...SMALL, ...gate.options });
    const v1 = await store.keyspace.write([{ type: "put", key: "k", value: "one" }]);
    assert.deepEqual(store.keyspace.get("k"), { value: "one", version: v1, expiresAt: 0 });
    gate.hold();
    const v2 = store.keyspace.write([{ type: "put", key: "k", value: "two" }]);
    assert.deepEqual(store.keyspace.get("k"), { value: "one", version: v1, expiresAt: 0 }, "not yet acknowledged");
    const latest = store.keyspace.latest("k");
    assert.equal(latest?.value, "two");
    assert.ok((latest?.version as number) > v1);
    assert.equal(store.keyspace.versionOf("k"), latest?.version);
    const gone = store.keyspace.write([{ type: "delete", key: "k" }]);
    assert.equal(store.keyspace.latest("k"), undefined);
    assert.equal(store.keyspace.kindOf("k", "latest"), undefined);
    assert.equal(store.keyspace.kindOf("k"), "string");
    assert.equal(store.keyspace.versionOf("k"), 0);
    gate.release();
    assert.equal(await v2, latest?.version);
    await gone;
    assert.equal(store.keyspace.get("k"), undefined);
    assert.equal(store.keyspace.latest("k"), undefined);
  });

  test("read-modify-writes from many writers at once, each read with latest and written in the same step, lose no update", async () => {
    await using store = await openStore(dir, SMALL);
    const increment = () => {
      const current = store.keyspace.latest("counter");
      const next = String(Number(current?.value ?? "0") + 1);
      return store.keyspace.write([{ type: "put", key: "counter", value: next }]);
    };
    const writers = 16;
    const each = 25;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let i = 0; i < each; i++) {
          const pending = [increment(), increment()];
          await Promise.all(pending);
        }
      }),
    );
    assert.equal(store.keyspace.get("counter")?.value, String(writers * each * 2));
  });

  test("a write is one record: all of it applies, or none when a condition fails", async () => {
    await using store = await openStore(dir, SMALL);
    const v = await store.keyspace.write([{ type: "put", key: "a", value: "1" }]);
    const lsn = await store.keyspace.write(
      [
        { type: "put", key: "b", value: "2" },
        { type: "put", key: "a", value: "3" },
        { type: "delete", key: "c" },
      ],
      { ifVersions: [["a", v]] },
    );
    assert.equal(store.keyspace.get("a")?.version, lsn);
    assert.equal(store.keyspace.get("b")?.version, lsn);
    await assert.rejects(
      store.keyspace.write(
        [
          { type: "put", key: "b", value: "x" },
          { type: "put", key: "z", value: "x" },
        ],
        { ifVersions: [["a", v]] },
      ),
      (error) => isLogbookError(error, "LOGBOOK_CONFLICT") && error.currentVersion === lsn,
    );
    assert.equal(store.keyspace.get("b")?.value, "2");
    assert.equal(store.keyspace.get("z"), undefined);
    await store.keyspace.write([{ type: "put", key: "y", value: "1" }], { ifVersions: [["never", 0]] });
    assert.equal(store.keyspace.get("y")?.value, "1");
  });

  test("strings and streams share one key order; a put replaces a stream, a delete removes one", async () => {
    await using store = await openStore(dir, SMALL);
    await store.streams.add("s1", { f: "v" });
    await store.streams.add("s3", { f: "v" });
    await store.keyspace.write([
      { type: "put", key: "s0", value: "a" },
      { type: "put", key: "s2", value: "b" },
      { type: "put", key: "t", value: "c" },
    ]);
    assert.deepEqual(keys(store), ["s0:string", "s1:stream", "s2:string", "s3:stream", "t:string"]);
    assert.deepEqual(keys(store, "s1", "s3"), ["s1:stream", "s2:string"]);
    assert.equal(store.keyspace.count(), 5);
    assert.equal(store.keyspace.count("s1", "t"), 3);
    assert.equal(store.keyspace.kindOf("s1"), "stream");
    assert.equal(store.keyspace.kindOf("s1", "latest"), "stream");
    assert.throws(
      () => store.keyspace.get("s1"),
      (e) => isLogbookError(e, "LOGBOOK_WRONG_TYPE"),
    );
    assert.throws(
      () => store.keyspace.latest("s1"),
      (e) => isLogbookError(e, "LOGBOOK_WRONG_TYPE"),
    );
    await assert.rejects(store.keyspace.write([{ type: "expire", key: "s1", expiresAt: Date.now() + 60_000 }]), (e) =>
      isLogbookError(e, "LOGBOOK_WRONG_TYPE"),
    );
    await store.keyspace.write([
      { type: "put", key: "s1", value: "now a string" },
      { type: "delete", key: "s3" },
    ]);
    assert.deepEqual(keys(store), ["s0:string", "s1:string", "s2:string", "t:string"]);
    assert.equal(store.streams.length("s3"), 0);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(store.keyspace.randomKey("s", "t") as string);
    assert.deepEqual([...seen].sort(), ["s0", "s1", "s2"]);
    assert.equal(store.keyspace.randomKey("u", "v"), undefined);
  });

  test("a range delete drops strings and streams in range, in order within its record, and replay does the same", async () => {
    const gate = commitGate();
    let liveBytes = 0;
    {
      await using store = await openStore(dir, { ...SMALL, ...gate.options });
      await store.streams.add("k/a/stream", { f: "v" });
      await store.keyspace.write([
        { type: "put", key: "k/a/1", value: "1" },
        { type: "put", key: "k/a/2", value: "2" },
        { type: "put", key: "k/b/1", value: "3" },
      ]);
      await store.checkpoint();
      await store.keyspace.write([{ type: "put", key: "k/a/3", value: "4" }]);
      gate.hold();
      const flushed = store.keyspace.write([
        { type: "put", key: "k/a/0", value: "gone with the range" },
        { type: "deleteRange", gte: "k/a/", lt: "k/a0" },
        { type: "put", key: "k/a/9", value: "after the range" },
      ]);
      assert.equal(store.keyspace.latest("k/a/0"), undefined);
      assert.equal(store.keyspace.latest("k/a/1"), undefined);
      assert.equal(store.keyspace.versionOf("k/a/1"), 0);
      assert.equal(store.keyspace.kindOf("k/a/stream", "latest"), undefined);
      assert.equal(store.keyspace.latest("k/a/9")?.value, "after the range");
      assert.equal(store.keyspace.latest("k/b/1")?.value, "3");
      assert.equal(store.keyspace.kindOf("k/a/1"), "string", "not applied yet");
      gate.release();
      await flushed;
      assert.deepEqual(keys(store), ["k/a/9:string", "k/b/1:string"]);
      assert.equal(store.keyspace.count("k/a/", "k/a0"), 1);
      assert.equal(store.stats().keys, 2);
      liveBytes = store.stats().keyValueBytes;
    }
    await using reopened = await openStore(dir, SMALL);
    assert.deepEqual(keys(reopened), ["k/a/9:string", "k/b/1:string"]);
    assert.equal(reopened.stats().keyValueBytes, liveBytes, "bytes counted as applied are those counted at open");
    assert.equal(reopened.streams.length("k/a/stream"), 0);
  });

  test("an empty end is no end: a range delete from '' removes every key", async () => {
    await using store = await openStore(dir, SMALL);
    await store.keyspace.write([
      { type: "put", key: "a", value: "1" },
      { type: "put", key: "\u00ff\u00ff", value: "2" },
    ]);
    await store.keyspace.write([{ type: "deleteRange", gte: "", lt: "" }]);
    assert.equal(store.keyspace.count(), 0);
  });

  test("binary keys and values pass through as one char per byte, in the same key space as the library's", async () => {
    await using store = await openStore(dir, { ...SMALL, valueEncoding: "binary", keyEncoding: "binary" });
    const key = "k\u00e9\u0000\u00ff";
    await store.keyspace.write([{ type: "put", key, value: "\u0000\u00ff\u0080" }]);
    const got = await store.get(Buffer.from(key, "latin1"));
    assert.deepEqual([...((got?.value ?? []) as Uint8Array)], [0, 255, 128]);
    assert.equal(store.keyspace.get(key)?.value, "\u0000\u00ff\u0080");
  });

  test("the change feed shows expiring puts, expires and range deletes as logged", async () => {
    await using store = await openStore(dir, { ...SMALL, valueEncoding: "utf8" });
    const at = Date.now() + 3_600_000;
    const first = await store.keyspace.write([{ type: "put", key: "a", value: "1", expiresAt: at }]);
    await store.keyspace.write([
      { type: "expire", key: "a", expiresAt: 0 },
      { type: "expire", key: "absent", expiresAt: at },
      { type: "deleteRange", gte: "a", lt: "b" },
      { type: "deleteRange", gte: "c", lt: "" },
      { type: "put", key: "p", value: "2" },
    ]);
    const changes = await changesOf(store, first, 6);
    assert.deepEqual(
      changes.map(({ lsn: _lsn, ...change }) => change),
      [
        { index: 0, key: "a", type: "put", value: "1", version: first, expiresAt: at },
        { index: 0, key: "a", type: "expire", expiresAt: 0, version: first + 1 },
        { index: 1, key: "absent", type: "expire", expiresAt: at, version: first + 1 },
        { index: 2, key: "a", type: "deleteRange", lt: "b", version: first + 1 },
        { index: 3, key: "c", type: "deleteRange", version: first + 1 },
        { index: 4, key: "p", type: "put", value: "2", version: first + 1 },
      ],
    );
  });

  test("bad operations are refused before anything is logged", async () => {
    await using store = await openStore(dir, { ...SMALL, keyBytesMax: 8, valueBytesMax: 8 });
    const lsn = store.logStats.lastLsn;
    const refuses = async (ops: unknown, code: string | typeof TypeError) => {
      const write = store.keyspace.write(ops as never);
      if (typeof code === "string") await assert.rejects(write, (e) => isLogbookError(e, code as never), String(ops));
      else await assert.rejects(write, TypeError);
    };
    await refuses("nope", TypeError);
    await refuses([], "LOGBOOK_INVALID_ARGUMENT");
    await refuses([null], TypeError);
    await refuses([{ type: "increment", key: "k" }], TypeError);
    await refuses([{ type: "put", key: 1, value: "v" }], TypeError);
    await refuses([{ type: "put", key: "k", value: 1 }], TypeError);
    await refuses([{ type: "put", key: "k".repeat(9), value: "v" }], "LOGBOOK_INVALID_ARGUMENT");
    await refuses([{ type: "put", key: "k", value: "v".repeat(9) }], "LOGBOOK_INVALID_ARGUMENT");
    await refuses([{ type: "put", key: "k\u0100", value: "v" }], "LOGBOOK_INVALID_ARGUMENT");
    await refuses([{ type: "put", key: "k", value: "\u20ac" }], "LOGBOOK_INVALID_ARGUMENT");
    for (const expiresAt of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      await refuses([{ type: "put", key: "k", value: "v", expiresAt }], "LOGBOOK_INVALID_ARGUMENT");
      await refuses([{ type: "expire", key: "k", expiresAt }], "LOGBOOK_INVALID_ARGUMENT");
    }
    await refuses([{ type: "expire", key: "k", expiresAt: "5" }], TypeError);
    await refuses([{ type: "deleteRange", gte: "a" }], TypeError);
    await assert.rejects(store.keyspace.write([{ type: "put", key: "k", value: "v" }], { ifVersions: 5 as never }), TypeError);
    await assert.rejects(store.keyspace.write([{ type: "put", key: "k", value: "v" }], { ifVersions: [["k", -1]] }), (e) =>
      isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"),
    );
    assert.equal(store.logStats.lastLsn, lsn, "nothing was logged");
    assert.throws(() => store.keyspace.get(5 as never), TypeError);
    assert.throws(() => store.keyspace.kindOf("k", "newest" as never), TypeError);
  });

  test("a stream command queued after a string reads as failing: the newest state is the string below it", async () => {
    const gate = commitGate();
    await using store = await openStore(dir, { ...SMALL, ...gate.options });
    gate.hold();
    const put = store.keyspace.write([{ type: "put", key: "str", value: "1" }]);
    const onString = store.streams.add("str", { f: "v" }).catch((e: unknown) => e);
    const toStream = store.streams.add("fresh", { f: "v" });
    assert.equal(store.keyspace.kindOf("fresh", "latest"), "stream");
    assert.equal(store.keyspace.kindOf("str", "latest"), "string");
    assert.equal(store.keyspace.latest("str")?.value, "1");
    assert.throws(
      () => store.keyspace.latest("fresh"),
      (e) => isLogbookError(e, "LOGBOOK_WRONG_TYPE"),
    );
    gate.release();
    await Promise.all([put, toStream]);
    assert.ok(isLogbookError(await onString, "LOGBOOK_WRONG_TYPE"));
    assert.equal(store.keyspace.kindOf("fresh"), "stream");
    assert.equal(store.keyspace.get("str")?.value, "1");
  });
});
