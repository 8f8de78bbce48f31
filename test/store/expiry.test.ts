/**
 * Key expiry: a key past its expiry time is absent to every read at once; the sweeper logs its
 * delete, decided against the newest sequenced state, and replay, checkpoints and the change
 * feed carry expiry times. Time comes from the store's clock, here a fake one.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError, type Store, type StoreOptions } from "../../src/index.js";
import { type Clock, systemClock } from "../../src/io/index.js";
import { crc32Range } from "../../src/log/index.js";
import { readCheckpoint } from "../../src/store/checkpoint-reader.js";
import type { Change } from "../../src/store/index.js";
import { commitGate, openStore } from "../support/store-log.js";
import { tempDir } from "../support/temp.js";

const START_MS = 1_800_000_000_000;

class FakeClock implements Clock {
  nowMs = START_MS;
  readonly monotonicMs = () => performance.now();
  readonly wallMs = () => this.nowMs;
  readonly every = systemClock.every;
}

const SMALL: StoreOptions = { segmentBytes: 256 * 1024, batchBytesMax: 64 * 1024, checkpointEveryBytes: 0, expirySweepMs: 0 };

async function keysOf(store: Store): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.scan()) keys.push(entry.key as string);
  return keys;
}

async function changesOf(store: Store, from: number, count: number): Promise<Change[]> {
  const changes: Change[] = [];
  for await (const change of store.changes({ from })) {
    changes.push(change);
    if (changes.length === count) break;
  }
  return changes;
}

/** Rewrites a checkpoint as format version 1 wrote it: the same bytes for entries without expiry times, version 1 in the header. */
async function downgradeToVersion1(path: string): Promise<void> {
  const bytes = await readFile(path);
  bytes.writeUInt16LE(1, 8);
  bytes.writeUInt32LE(crc32Range(bytes, 0, 60), 60);
  await writeFile(path, bytes);
}

async function checkpointFile(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.startsWith("checkpoint-") && name.endsWith(".dat"));
  assert.equal(names.length, 1);
  return join(dir, names[0] as string);
}

describe("key expiry", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let clock: FakeClock;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
    clock = new FakeClock();
  });
  afterEach(async () => {
    await cleanup();
  });

  test("a key past its expiry time is absent to every read at once, and still counted until it is deleted", async () => {
    await using store = await openStore(dir, { ...SMALL, clock });
    const version = await store.put("k", "v", { ttlMs: 1000 });
    await store.put("forever", "v");
    await store.streams.add("s", { f: "v" });
    assert.deepEqual(await store.get("k"), { value: "v", version, expiresAt: START_MS + 1000 });
    assert.deepEqual(store.getSync("forever"), { value: "v", version: version + 1 }, "no expiresAt without an expiry");
    assert.deepEqual(store.keyspace.get("k"), { value: '"v"', version, expiresAt: START_MS + 1000 });
    clock.nowMs += 999;
    assert.equal(store.keyspace.kindOf("k"), "string");
    clock.nowMs += 1;
    assert.equal(store.getSync("k"), undefined);
    assert.equal(await store.get("k"), undefined);
    assert.equal(store.keyspace.get("k"), undefined);
    assert.equal(store.keyspace.latest("k"), undefined);
    assert.equal(store.keyspace.kindOf("k"), undefined);
    assert.equal(store.keyspace.kindOf("k", "latest"), undefined);
    assert.deepEqual(await keysOf(store), ["forever"]);
    assert.deepEqual(
      [...store.keyspace.scan()].map((e) => e.key),
      ["forever", "s"],
    );
    assert.deepEqual(
      [...store.keyspace.scan({ now: START_MS })].map((e) => e.key),
      ["forever", "k", "s"],
      "scan decides at the time it is given",
    );
    assert.equal(store.keyspace.count(), 3, "like DBSIZE, counts a key not yet deleted");
    for (let i = 0; i < 50; i++) assert.notEqual(store.keyspace.randomKey(), "k");
    assert.equal(store.keyspace.versionOf("k"), 0, "a condition sees it absent");
    await store.put("k", "again", { ifVersion: 0 });
    assert.equal(store.getSync("k")?.value, "again");
  });

  test("the sweeper logs the deletes of expired keys in one record, and a reopened store has the same state", async () => {
    {
      await using store = await openStore(dir, { ...SMALL, clock });
      for (let i = 0; i < 5; i++) await store.put(`k${i}`, i, { expiresAt: START_MS + 100 * (i + 1) });
      await store.put("plain", 1);
      assert.equal(await store.expirySweeper.sweep(), 0, "nothing due yet");
      clock.nowMs = START_MS + 300;
      const before = store.logStats.lastLsn;
      assert.equal(await store.expirySweeper.sweep(), 3);
      assert.equal(store.logStats.lastLsn, before + 1, "one record");
      const changes = await changesOf(store, before + 1, 3);
      assert.deepEqual(
        changes.map((c) => `${c.type} ${c.key as string}@${c.lsn}`),
        [`delete k0@${before + 1}`, `delete k1@${before + 1}`, `delete k2@${before + 1}`],
      );
      assert.equal(store.keyspace.count(), 3);
      assert.equal(await store.expirySweeper.sweep(), 0, "each key is deleted once");
    }
    clock.nowMs = START_MS;
    await using reopened = await openStore(dir, { ...SMALL, clock });
    assert.deepEqual(await keysOf(reopened), ["k3", "k4", "plain"], "deleted keys stay deleted, whatever the time");
    assert.equal(reopened.getSync("k3")?.expiresAt, START_MS + 400);
    clock.nowMs = START_MS + 1000;
    assert.equal(await reopened.expirySweeper.sweep(), 2, "the reopened store's sweeper finds the rest from its index");
    assert.deepEqual(await keysOf(reopened), ["plain"]);
  });

  test("a key put again without an expiry is not swept, whether that put is applied or only sequenced", async () => {
    const gate = commitGate();
    await using store = await openStore(dir, { ...SMALL, ...gate.options, clock });
    await store.put("applied", "old", { ttlMs: 10 });
    await store.put("pending", "old", { ttlMs: 10 });
    await store.put("later", "old", { ttlMs: 10 });
    await store.put("applied", "new");
    gate.hold();
    const pending = store.put("pending", "new");
    const later = store.expire("later", START_MS + 60_000);
    clock.nowMs += 10;
    const swept = store.expirySweeper.sweep();
    gate.release();
    assert.equal(await swept, 0, "the newest state of each key does not expire yet");
    await Promise.all([pending, later]);
    assert.equal(store.getSync("applied")?.value, "new");
    assert.equal(store.getSync("pending")?.value, "new");
    assert.equal(store.getSync("later")?.expiresAt, START_MS + 60_000);
    assert.equal(await store.expirySweeper.sweep(), 0);
  });

  test("the sweeper runs by itself every expirySweepMs and stops when the store closes", async () => {
    const store = await openStore(dir, { ...SMALL, clock, expirySweepMs: 5 });
    await store.put("k", 1, { ttlMs: 5 });
    clock.nowMs += 5;
    for (let i = 0; i < 200 && store.keyspace.count() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(store.keyspace.count(), 0);
    await store.close();
  });

  test("expire sets, moves and removes an expiry time; on an absent key it changes nothing", async () => {
    await using store = await openStore(dir, { ...SMALL, clock });
    const v1 = await store.put("k", "v");
    const v2 = await store.expire("k", START_MS + 5000);
    assert.deepEqual(store.getSync("k"), { value: "v", version: v2, expiresAt: START_MS + 5000 });
    assert.ok(v2 > v1, "an expire gives the key its LSN as version");
    const v3 = await store.expire("k", 0);
    assert.deepEqual(store.getSync("k"), { value: "v", version: v3 });
    const noop = await store.expire("absent", START_MS + 5000);
    assert.ok(noop > v3);
    assert.equal(store.getSync("absent"), undefined);
    assert.equal(store.keyspace.versionOf("absent"), 0);
    await assert.rejects(store.expire("k", START_MS + 1, { ifVersion: v1 }), (e) => isLogbookError(e, "LOGBOOK_CONFLICT"));
    await store.expire("k", START_MS + 9000, { ifVersion: v3 });
    assert.equal(store.getSync("k")?.expiresAt, START_MS + 9000);
  });

  test("an expire with a time already come, or on a key already expired, is logged as a delete", async () => {
    await using store = await openStore(dir, { ...SMALL, clock });
    await store.put("a", 1);
    await store.put("b", 1, { ttlMs: 10 });
    const first = await store.expire("a", START_MS);
    clock.nowMs += 10;
    await store.expire("b", START_MS + 60_000);
    assert.equal(store.getSync("b"), undefined, "not brought back");
    const changes = await changesOf(store, first, 2);
    assert.deepEqual(
      changes.map((c) => `${c.type} ${c.key as string}`),
      ["delete a", "delete b"],
    );
    assert.equal(store.keyspace.count(), 0);
  });

  test("replay restores versions and expiry times of expiring puts and expires, on keys of the log and of the checkpoint", async () => {
    const seen: Record<string, unknown> = {};
    {
      await using store = await openStore(dir, { ...SMALL, clock });
      await store.put("in-checkpoint", "c", { ttlMs: 1000 });
      await store.put("persisted-later", "p", { ttlMs: 1000 });
      await store.checkpoint();
      await store.expire("in-checkpoint", START_MS + 7000);
      await store.expire("persisted-later", 0);
      await store.put("log", "l", { expiresAt: START_MS + 3000 });
      await store.batch([{ type: "put", key: "plain-after", value: "x" }]);
      await store.put("plain-after", "y", { ttlMs: 50 });
      await store.put("plain-after", "z");
      await store.keyspace.write([
        { type: "put", key: "batch", value: JSON.stringify("b"), expiresAt: START_MS + 4000 },
        { type: "expire", key: "batch", expiresAt: START_MS + 5000 },
        { type: "expire", key: "never-written", expiresAt: START_MS + 5000 },
      ]);
      for (const key of ["in-checkpoint", "persisted-later", "log", "plain-after", "batch"]) seen[key] = store.getSync(key);
      seen.bytes = store.stats().keyValueBytes;
    }
    await using reopened = await openStore(dir, { ...SMALL, clock });
    const { bytes, ...values } = seen;
    for (const key of Object.keys(values)) assert.deepEqual(reopened.getSync(key), values[key], key);
    assert.equal(reopened.stats().keyValueBytes, bytes);
    assert.equal(reopened.getSync("never-written"), undefined);
    assert.equal(reopened.stats().keys, 5);
  });

  test("a checkpoint carries expiry times; one of format version 1 is still read", async () => {
    {
      await using store = await openStore(dir, { ...SMALL, clock });
      await store.put("a", 1, { expiresAt: START_MS + 2 ** 40 });
      await store.put("b", 2);
      await store.checkpoint();
    }
    const path = await checkpointFile(dir);
    const fs = (await import("../../src/io/index.js")).NodeFileSystem;
    const loaded = await readCheckpoint(new fs(), path);
    assert.equal(loaded.entries, 2);
    {
      await using reopened = await openStore(dir, { ...SMALL, clock });
      assert.equal(reopened.recovery.checkpointLsn, 2);
      assert.deepEqual(reopened.getSync("a"), { value: 1, version: 1, expiresAt: START_MS + 2 ** 40 });
      assert.deepEqual(reopened.getSync("b"), { value: 2, version: 2 });
    }
    await cleanup();
    ({ path: dir, cleanup } = await tempDir());
    {
      await using store = await openStore(dir, { ...SMALL, clock });
      await store.put("a", 1);
      await store.put("b", 2);
      await store.checkpoint();
    }
    await downgradeToVersion1(await checkpointFile(dir));
    await using old = await openStore(dir, { ...SMALL, clock });
    assert.equal(old.recovery.checkpointLsn, 2);
    assert.deepEqual(old.recovery.skippedCheckpoints, []);
    assert.deepEqual(old.getSync("a"), { value: 1, version: 1 });
    assert.deepEqual(old.getSync("b"), { value: 2, version: 2 });
  });

  test("an entry flagged with an expiry time in a version 1 checkpoint is damage", async () => {
    {
      await using store = await openStore(dir, { ...SMALL, clock });
      await store.put("a", 1, { expiresAt: START_MS + 1000 });
      await store.checkpoint();
    }
    const path = await checkpointFile(dir);
    await downgradeToVersion1(path);
    const { NodeFileSystem } = await import("../../src/io/index.js");
    await assert.rejects(readCheckpoint(new NodeFileSystem(), path), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
  });

  test("bad expiry times are refused with LOGBOOK_INVALID_ARGUMENT, a wrong type with TypeError", async () => {
    await using store = await openStore(dir, { ...SMALL, clock });
    const invalid = (e: unknown) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT");
    for (const expiresAt of [-1, 1.5, Number.NaN, 2 ** 53]) {
      await assert.rejects(store.put("k", 1, { expiresAt }), invalid);
      await assert.rejects(store.expire("k", expiresAt), invalid);
    }
    for (const ttlMs of [0, -5, 0.5, Number.NaN]) await assert.rejects(store.put("k", 1, { ttlMs }), invalid);
    await assert.rejects(store.put("k", 1, { expiresAt: START_MS + 1, ttlMs: 5 }), invalid);
    await assert.rejects(store.put("k", 1, { ttlMs: "5" as never }), TypeError);
    await assert.rejects(store.expire("k", "5" as never), TypeError);
    await store.streams.add("s", { f: "v" });
    await assert.rejects(store.expire("s", START_MS + 1), (e) => isLogbookError(e, "LOGBOOK_WRONG_TYPE"));
    assert.equal(store.getSync("k"), undefined);
  });

  test("a put with an expiry replaces a stream, and the feed shows its expiry time", async () => {
    await using store = await openStore(dir, { ...SMALL, clock });
    await store.streams.add("s", { f: "v" });
    const lsn = await store.put("s", "v", { expiresAt: START_MS + 10 });
    assert.equal(store.keyspace.kindOf("s"), "string");
    const [change] = await changesOf(store, lsn, 1);
    assert.deepEqual(change, { lsn, index: 0, key: "s", type: "put", value: "v", version: lsn, expiresAt: START_MS + 10 });
  });

  test("to streams, a string past its expiry time is not there: reads find no stream, an add makes one", async () => {
    await using store = await openStore(dir, { ...SMALL, clock });
    await store.put("k", "v", { ttlMs: 10 });
    await assert.rejects(store.streams.add("k", { f: "v" }), (e) => isLogbookError(e, "LOGBOOK_WRONG_TYPE"));
    clock.nowMs += 10;
    assert.equal(store.streams.length("k"), 0);
    await store.streams.add("k", { f: "v" });
    assert.equal(store.streams.length("k"), 1);
    assert.equal(store.keyspace.kindOf("k"), "stream");
    await store.close();
    await using reopened = await openStore(dir, { ...SMALL, clock });
    assert.equal(reopened.streams.length("k"), 1, "replay deletes the string before the add, as it was logged");
  });
});
