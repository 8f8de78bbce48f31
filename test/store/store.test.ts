import assert from "node:assert/strict";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError, type Store, type StoreOptions } from "../../src/index.js";
import { loseStoreLog, openStore } from "../support/store-log.js";
import { flipBit } from "../support/surgery.js";
import { tempDir } from "../support/temp.js";

const SMALL: StoreOptions = { segmentBytes: 16 * 1024 + 64, batchBytesMax: 16 * 1024, checkpointEveryBytes: 0 };

async function entries(db: Store, options: Parameters<Store["scan"]>[0] = {}): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of db.scan(options)) keys.push(entry.key as string);
  return keys;
}

describe("Store", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("a write is invisible until durable and applied, then visible with its LSN as version", async () => {
    await using db = await openStore(dir, SMALL);
    const pending = db.put("k", "v1");
    assert.equal(db.getSync("k"), undefined, "not visible before it is durable");
    const version = await pending;
    assert.deepEqual(db.getSync("k"), { value: "v1", version });
    assert.deepEqual(await db.get("k"), { value: "v1", version });
  });

  test("of N concurrent CAS increments on one version exactly one wins; retried, the count is exact", async () => {
    await using db = await openStore(dir, SMALL);
    await db.put("counter", 0);
    const start = db.getSync("counter");
    const racing = await Promise.allSettled(
      Array.from({ length: 10 }, () => db.put("counter", 1, { ifVersion: start?.version as number })),
    );
    assert.equal(racing.filter((r) => r.status === "fulfilled").length, 1);
    for (const r of racing.filter((r) => r.status === "rejected")) {
      assert.ok(isLogbookError((r as PromiseRejectedResult).reason, "LOGBOOK_CONFLICT"));
    }
    let successes = 1;
    let conflicts = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let done = 0; done < 10; ) {
          const current = db.getSync("counter") as { value: number; version: number };
          try {
            await db.put("counter", current.value + 1, { ifVersion: current.version });
            successes++;
            done++;
          } catch (error) {
            assert.ok(isLogbookError(error, "LOGBOOK_CONFLICT"));
            assert.equal(typeof error.currentVersion, "number");
            conflicts++;
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
      }),
    );
    assert.equal(db.getSync("counter")?.value, successes);
    assert.equal(successes, 81);
    assert.ok(conflicts > 0, "the writers did race");
  });

  test("create-only (ifVersion 0), delete with a condition, and batch conditions on several keys", async () => {
    await using db = await openStore(dir, SMALL);
    const v1 = await db.put("a", 1, { ifVersion: 0 });
    await assert.rejects(
      db.put("a", 2, { ifVersion: 0 }),
      (e) => isLogbookError(e, "LOGBOOK_CONFLICT") && e.currentVersion === v1,
    );
    await assert.rejects(db.delete("a", { ifVersion: v1 + 5 }), (e) => isLogbookError(e, "LOGBOOK_CONFLICT"));
    const v2 = await db.put("b", 2);
    await assert.rejects(
      db.batch([{ type: "put", key: "c", value: 3 }], { ifVersions: { a: v1, b: v2 + 1 } }),
      (e) => isLogbookError(e, "LOGBOOK_CONFLICT") && e.key === "b",
    );
    assert.equal(db.getSync("c"), undefined, "a failed batch applies nothing");
    await db.batch(
      [
        { type: "put", key: "c", value: 3 },
        { type: "delete", key: "a" },
      ],
      { ifVersions: new Map([["a", v1]]) },
    );
    assert.deepEqual(await entries(db), ["b", "c"]);
    await db.delete("b", { ifVersion: v2 });
    assert.equal(db.getSync("b"), undefined);
  });

  test("scan honours prefix, gt/gte/lt/lte, limit and reverse, in byte order", async () => {
    await using db = await openStore(dir, SMALL);
    for (const key of ["a", "ab", "abc", "b", "ba", "c", "\u00e9", "z"]) await db.put(key, key);
    assert.deepEqual(await entries(db), ["a", "ab", "abc", "b", "ba", "c", "z", "\u00e9"]);
    assert.deepEqual(await entries(db, { prefix: "a" }), ["a", "ab", "abc"]);
    assert.deepEqual(await entries(db, { gt: "a", lt: "b" }), ["ab", "abc"]);
    assert.deepEqual(await entries(db, { gte: "b", lte: "c" }), ["b", "ba", "c"]);
    assert.deepEqual(await entries(db, { reverse: true, limit: 3 }), ["\u00e9", "z", "c"]);
    assert.deepEqual(await entries(db, { prefix: "a", reverse: true }), ["abc", "ab", "a"]);
    assert.deepEqual(await entries(db, { gt: "b", lt: "c", reverse: true }), ["ba"]);
    assert.deepEqual(await entries(db, { limit: 0 }), []);
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(entries(db, { signal: controller.signal }), (e) => isLogbookError(e, "LOGBOOK_ABORTED"));
  });

  test("binary keys and values, utf8 values", async () => {
    {
      await using db = await openStore(dir, { ...SMALL, valueEncoding: "binary", keyEncoding: "binary" });
      await db.put(new Uint8Array([0, 255, 1]), new Uint8Array([9, 8, 7]));
      const [entry] = await (async () => {
        const out = [];
        for await (const e of db.scan()) out.push(e);
        return out;
      })();
      assert.deepEqual(entry?.key, new Uint8Array([0, 255, 1]));
      assert.deepEqual(entry?.value, new Uint8Array([9, 8, 7]));
      await assert.rejects(db.put(new Uint8Array([1]), "not bytes"), TypeError);
    }
    const other = await tempDir();
    try {
      await using db = await openStore(other.path, { ...SMALL, valueEncoding: "utf8" });
      await db.put("k", "h\u00e9llo");
      assert.equal(db.getSync("k")?.value, "h\u00e9llo");
      await assert.rejects(db.put("k", 5), TypeError);
    } finally {
      await other.cleanup();
    }
  });

  test("bad input gets typed errors and changes nothing", async () => {
    await assert.rejects(openStore(dir, { valueEncoding: "xml" as never }), (e) => isLogbookError(e, "LOGBOOK_INVALID_OPTION"));
    await using db = await openStore(dir, { ...SMALL, keyBytesMax: 8, valueBytesMax: 16 });
    await assert.rejects(db.put("a-key-that-is-too-long", 1), (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(db.put("k", "x".repeat(100)), (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(db.put("k", undefined), (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(db.put("\ud800", 1), (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(db.put(42 as never, 1), TypeError);
    await assert.rejects(db.put("k", 1, { ifVersion: -1 }), (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(db.batch([]), (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"));
    await assert.rejects(db.batch([{ type: "merge", key: "k" } as never]), TypeError);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assert.rejects(db.put("k", circular), (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"));
    assert.deepEqual(await entries(db), []);
    assert.equal(db.stats().appliedLsn, 0);
  });

  test("checkpoints free the log; recovery loads the newest and replays after it", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 200; i++) await db.put(`k${i % 50}`, { i, pad: "p".repeat(200) });
      await db.checkpoint();
      for (let i = 200; i < 400; i++) await db.put(`k${i % 50}`, { i, pad: "p".repeat(200) });
      assert.equal(db.logStats.firstLsn, 1);
      const second = await db.checkpoint();
      assert.equal(second?.lsn, 400);
      assert.ok(db.logStats.firstLsn > 1, "the log was truncated up to the previous checkpoint");
      assert.ok(db.logStats.firstLsn <= 201, "and keeps what the previous checkpoint needs");
      await db.put("after", 1);
    }
    await using db = await openStore(dir, SMALL);
    assert.equal(db.recovery.checkpointLsn, 400);
    assert.equal(db.recovery.recordsReplayed, 1);
    assert.equal(db.stats().keys, 51);
    assert.deepEqual(db.getSync("k49")?.value, { i: 399, pad: "p".repeat(200) });
  });

  test("replay keeps each key's last write: rewrites, deletes and batches that write a key twice, over a checkpoint or not", async () => {
    const expected = new Map<string, { value: unknown; version: number }>();
    {
      await using db = await openStore(dir, SMALL);
      const write = async (key: string, value: unknown) => expected.set(key, { value, version: await db.put(key, value) });
      for (let i = 0; i < 120; i++) await write(`k${i % 30}`, { i });
      await db.checkpoint();
      for (let i = 120; i < 300; i++) await write(`k${i % 40}`, { i, pad: "p".repeat(i % 7) });
      // In one batch: a key put twice (the second stays), put-delete-put, put-delete, and a key
      // only the checkpoint had, deleted.
      const version = await db.batch([
        { type: "put", key: "twice", value: 1 },
        { type: "put", key: "twice", value: 2 },
        { type: "put", key: "k1", value: "a" },
        { type: "delete", key: "k1" },
        { type: "put", key: "k1", value: "b" },
        { type: "put", key: "gone", value: 0 },
        { type: "delete", key: "gone" },
        { type: "delete", key: "k29" },
      ]);
      expected.set("twice", { value: 2, version });
      expected.set("k1", { value: "b", version });
      expected.delete("k29");
      await write("k2", "last");
    }
    const check = async (label: string) => {
      await using db = await openStore(dir, SMALL);
      const found = new Map<string, { value: unknown; version: number }>();
      for await (const { key, value, version } of db.scan()) found.set(key as string, { value, version });
      assert.deepEqual(found, expected, label);
      return db.recovery;
    };
    const overCheckpoint = await check("over the checkpoint");
    assert.equal(overCheckpoint.checkpointLsn, 120);
    assert.equal(overCheckpoint.recordsReplayed, 182);
    // The same log from nothing: the checkpoint set aside, the whole log replayed.
    for (const name of await readdir(dir)) if (name !== "log") await rm(join(dir, name), { recursive: true });
    const fromLog = await check("from the log alone");
    assert.equal(fromLog.checkpointLsn, 0);
    assert.equal(fromLog.recordsReplayed, 302);
  });

  test("a damaged newest checkpoint falls back to the previous one while the log still has what it needs", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 20; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
      for (let i = 20; i < 40; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
    }
    const newest = (await readdir(dir))
      .filter((n) => n.startsWith("checkpoint-"))
      .sort()
      .at(-1) as string;
    await flipBit(join(dir, newest), 100);
    await using db = await openStore(dir, SMALL);
    assert.equal(db.recovery.checkpointLsn, 20);
    assert.equal(db.recovery.skippedCheckpoints.length, 1);
    assert.equal(db.stats().keys, 40, "the log after the previous checkpoint rebuilt the rest");
  });

  test("with no usable checkpoint and the log already truncated, open fails with LOGBOOK_CORRUPTION", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 100; i++) await db.put(`k${i}`, "v".repeat(300));
        await db.checkpoint();
      }
    }
    for (const name of await readdir(dir)) if (name.startsWith("checkpoint-")) await flipBit(join(dir, name), 70);
    await assert.rejects(openStore(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
  });

  test("with sync none a checkpoint first makes the log durable up to it, then truncates", async () => {
    {
      await using db = await openStore(dir, { ...SMALL, sync: "none" });
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: 100 }, (_, i) => db.put(`k${i}`, round)));
        const info = await db.checkpoint();
        assert.ok(db.logStats.durableLsn >= (info?.lsn ?? 0));
      }
    }
    await using db = await openStore(dir, SMALL);
    assert.equal(db.getSync("k99")?.value, 2);
  });

  test("a log that ends before the newest checkpoint (a lost log) fails open instead of reusing LSNs", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 10; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
    }
    await loseStoreLog(dir);
    await assert.rejects(
      openStore(dir, SMALL),
      (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && /ends at LSN 0/.test(e.message),
    );
  });

  test("automatic checkpoints run by log bytes written", async () => {
    await using db = await openStore(dir, { ...SMALL, checkpointEveryBytes: 4096 });
    for (let i = 0; i < 100; i++) await db.put(`k${i}`, "x".repeat(100));
    while (db.stats().checkpointRunning) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(db.stats().checkpoints >= 1);
    assert.ok((db.stats().lastCheckpoint?.lsn ?? 0) > 0);
  });

  test("leftovers of an interrupted checkpoint are removed at open", async () => {
    {
      await using db = await openStore(dir, SMALL);
      await db.put("k", 1);
    }
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(dir, "checkpoint-00000000000000000001.dat.tmp"), "partial");
    await writeFile(join(dir, "checkpoint-00000000000000000001.dat"), "never named in a manifest");
    await using db = await openStore(dir, SMALL);
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.startsWith("checkpoint")),
      [],
    );
    assert.equal(db.getSync("k")?.value, 1);
  });

  test("read-only opens read and refuse writes and checkpoints", async () => {
    {
      await using db = await openStore(dir, SMALL);
      await db.put("k", 1);
    }
    await using db = await openStore(dir, { ...SMALL, readOnly: true });
    assert.equal(db.getSync("k")?.value, 1);
    await assert.rejects(db.put("k", 2), (e) => isLogbookError(e, "LOGBOOK_READ_ONLY"));
    await assert.rejects(db.checkpoint(), (e) => isLogbookError(e, "LOGBOOK_READ_ONLY"));
    await rm(join(dir, "nothing"), { force: true });
  });
});
