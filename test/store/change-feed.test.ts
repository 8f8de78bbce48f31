/**
 * The store's change feed and its named cursors (docs/guarantees.md, "The change feed"):
 * writes come out in LSN order, one change per operation, durable ones only; a start the log
 * no longer holds is refused with LOGBOOK_TRUNCATED; cursors survive a reopen, hold back the
 * log's truncation, and are dropped with LOGBOOK_CURSOR_DROPPED past their cap.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { type Change, type CursorDroppedEvent, isLogbookError, type Store, type StoreOptions } from "../../src/index.js";
import { GatedDisk } from "../support/gated-disk.js";
import { localLogOnly, openStore } from "../support/store-log.js";
import { tempDir } from "../support/temp.js";

const SMALL: StoreOptions = { segmentBytes: 16 * 1024 + 64, batchBytesMax: 16 * 1024, checkpointEveryBytes: 0 };
/** How long a test waits for a change that must come. */
const CHANGE_WAIT_MS = 5000;
/** How long a test lets a read that must not resolve run before it looks. */
const SETTLE_GRACE_MS = 100;
/** Long enough that the interval timer never syncs during a test. */
const INTERVAL_NEVER_MS = 600_000;

function within<T>(promise: Promise<T>, ms = CHANGE_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing came within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The next `count` changes of `feed` (fewer if it ends), each within CHANGE_WAIT_MS. */
async function take(feed: AsyncGenerator<Change>, count: number): Promise<Change[]> {
  const changes: Change[] = [];
  while (changes.length < count) {
    const next = await within(feed.next());
    if (next.done === true) break;
    changes.push(next.value);
  }
  return changes;
}

/** Puts `count` values of `valueBytes` characters each, one write per put. */
async function fill(db: Store, count: number, valueBytes = 400): Promise<number> {
  let lsn = 0;
  for (let i = 0; i < count; i++) lsn = await db.put(`fill-${i}`, "x".repeat(valueBytes));
  return lsn;
}

function hasCode(code: string): (error: unknown) => boolean {
  return (error) => isLogbookError(error) && error.code === code;
}

describe("change feed", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("puts, deletes and batches come out in LSN order, one change per operation, a batch's sharing its LSN", async () => {
    await using db = await openStore(dir, SMALL);
    const first = await db.put("a", { n: 1 });
    const second = await db.delete("a");
    const third = await db.batch([
      { type: "put", key: "b", value: [1, 2] },
      { type: "delete", key: "c" },
      { type: "put", key: "d", value: "v" },
    ]);
    const feed = db.changes({ from: first });
    assert.deepEqual(await take(feed, 5), [
      { lsn: first, index: 0, key: "a", type: "put", value: { n: 1 }, version: first },
      { lsn: second, index: 0, key: "a", type: "delete", version: second },
      { lsn: third, index: 0, key: "b", type: "put", value: [1, 2], version: third },
      { lsn: third, index: 1, key: "c", type: "delete", version: third },
      { lsn: third, index: 2, key: "d", type: "put", value: "v", version: third },
    ]);
    await feed.return(undefined);
  });

  test("by default a reader starts at the next write and is woken by new commits", async () => {
    await using db = await openStore(dir, SMALL);
    await db.put("before", 1);
    const feed = db.changes();
    const next = feed.next();
    const lsn = await db.put("after", 2);
    const got = await within(next);
    assert.equal(got.done, false);
    assert.deepEqual(got.value, { lsn, index: 0, key: "after", type: "put", value: 2, version: lsn });
    await feed.return(undefined);
  });

  test("resumes from any LSN the log holds (inclusive)", async () => {
    await using db = await openStore(dir, SMALL);
    const lsns = [];
    for (let i = 0; i < 5; i++) lsns.push(await db.put(`k${i}`, i));
    const feed = db.changes({ from: lsns[3] });
    assert.deepEqual(
      (await take(feed, 2)).map((c) => c.key),
      ["k3", "k4"],
    );
    await feed.return(undefined);
  });

  test(
    "under sync interval a written record is not handed out until it is durable",
    localLogOnly("holds the local log's fdatasync"),
    async () => {
      const disk = new GatedDisk();
      await using db = await openStore(dir, {
        ...SMALL,
        sync: "interval",
        syncIntervalMs: INTERVAL_NEVER_MS,
        fileSystem: disk.fileSystem,
      });
      const feed = db.changes();
      disk.syncs.hold();
      const lsn = await db.put("k", "v");
      assert.equal(db.getSync("k")?.version, lsn, "written and applied (visible) before it is durable");
      assert.ok(db.logStats.durableLsn < lsn);
      let resolved = false;
      const next = feed.next().then((result) => {
        resolved = true;
        return result;
      });
      await new Promise((resolve) => setTimeout(resolve, SETTLE_GRACE_MS));
      assert.equal(resolved, false, "not handed out while its fdatasync is held");
      disk.syncs.release();
      const got = await within(next);
      assert.equal(got.value?.lsn, lsn);
      assert.ok(db.logStats.durableLsn >= lsn, "handed out only once durable");
      await feed.return(undefined);
    },
  );

  test("a start the log no longer holds is refused with LOGBOOK_TRUNCATED; a snapshot and its LSN resync", async () => {
    await using db = await openStore(dir, SMALL);
    await fill(db, 100);
    await db.checkpoint();
    await fill(db, 100);
    await db.checkpoint();
    assert.ok(db.logStats.firstLsn > 1, "two checkpoints freed the oldest segments");
    assert.throws(
      () => db.changes({ from: 1 }),
      (error: unknown) => hasCode("LOGBOOK_TRUNCATED")(error) && /snapshot/.test((error as Error).message),
    );
    const snapshot = await db.snapshot({ prefix: "fill-" });
    let count = 0;
    for await (const _ of snapshot.entries) count++;
    assert.equal(count, 100);
    assert.equal(snapshot.lsn, db.stats().appliedLsn);
    const feed = db.changes({ from: snapshot.lsn + 1 });
    const lsn = await db.put("later", true);
    assert.deepEqual(
      (await take(feed, 1)).map((c) => [c.lsn, c.key]),
      [[lsn, "later"]],
    );
    await feed.return(undefined);
  });

  test("aborting ends a waiting reader with LOGBOOK_ABORTED; closing the store ends one cleanly", async () => {
    const db = await openStore(dir, SMALL);
    const controller = new AbortController();
    const aborted = db.changes({ signal: controller.signal });
    const waiting = aborted.next();
    controller.abort();
    await assert.rejects(within(waiting), hasCode("LOGBOOK_ABORTED"));
    const open = db.changes();
    const pending = open.next();
    await db.close();
    assert.deepEqual(await within(pending), { done: true, value: undefined });
    assert.throws(() => db.changes(), hasCode("LOGBOOK_CLOSED"));
  });

  test("bad starts and cursor names get typed errors", async () => {
    await using db = await openStore(dir, SMALL);
    await db.put("k", 1);
    assert.throws(() => db.changes({ from: -1 }), hasCode("LOGBOOK_INVALID_LSN"));
    assert.throws(() => db.changes({ from: 1.5 }), hasCode("LOGBOOK_INVALID_LSN"));
    assert.throws(() => db.changes({ from: 99 }), hasCode("LOGBOOK_INVALID_LSN"));
    assert.throws(() => db.changes({ cursor: "nobody" }), hasCode("LOGBOOK_NOT_FOUND"));
    assert.throws(() => db.changes({ signal: "no" as unknown as AbortSignal }), TypeError);
    await assert.rejects(db.feedCursors.create("has space"), hasCode("LOGBOOK_INVALID_ARGUMENT"));
    await db.feedCursors.create("c");
    await assert.rejects(db.feedCursors.create("c"), hasCode("LOGBOOK_CONFLICT"));
    await assert.rejects(db.feedCursors.create("d", { fromLsn: 50 }), hasCode("LOGBOOK_INVALID_LSN"));
    await assert.rejects(db.feedCursors.ack("c", 50), hasCode("LOGBOOK_INVALID_LSN"));
    await assert.rejects(db.feedCursors.ack("nobody", 1), hasCode("LOGBOOK_NOT_FOUND"));
    await assert.rejects(db.feedCursors.drop("nobody"), hasCode("LOGBOOK_NOT_FOUND"));
  });
});

describe("feed cursors", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("a cursor and its acknowledgement survive a reopen; reading through it starts after the acknowledgement", async () => {
    const lsns: number[] = [];
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 4; i++) lsns.push(await db.put(`k${i}`, i));
      const created = await db.feedCursors.create("c", { fromLsn: lsns[0] });
      assert.equal(created.lsn, (lsns[0] as number) - 1);
      assert.equal(created.lagRecords, 4);
      await db.feedCursors.ack("c", lsns[1] as number);
      await db.feedCursors.ack("c", lsns[0] as number); // older: changes nothing
      await db.feedCursors.create("gone");
      await db.feedCursors.drop("gone");
    }
    await using db = await openStore(dir, SMALL);
    assert.deepEqual(
      db.feedCursors.list().map((c) => [c.name, c.lsn, c.lagRecords]),
      [["c", lsns[1], 2]],
    );
    const feed = db.changes({ cursor: "c" });
    assert.deepEqual(
      (await take(feed, 2)).map((c) => c.key),
      ["k2", "k3"],
    );
    await feed.return(undefined);
    assert.throws(() => db.changes({ cursor: "gone" }), hasCode("LOGBOOK_NOT_FOUND"));
  });

  test("a cursor holds back the log's truncation until it is acknowledged past it", async () => {
    await using db = await openStore(dir, SMALL);
    const start = (await db.put("start", 0)) + 1;
    await db.feedCursors.create("c", { fromLsn: start });
    await fill(db, 100);
    await db.checkpoint();
    const last = await fill(db, 100);
    await db.checkpoint();
    assert.ok(db.logStats.firstLsn <= start, `the log still starts at or before ${start}`);
    const lag = db.feedCursors.list()[0];
    assert.ok(lag !== undefined && lag.lagBytes > 200 * 400, `lag ${lag?.lagBytes} counts the bytes behind`);
    const feed = db.changes({ cursor: "c" });
    assert.deepEqual(
      (await take(feed, 1)).map((c) => c.key),
      ["fill-0"],
    );
    await feed.return(undefined);
    await db.feedCursors.ack("c", last);
    await fill(db, 10);
    await db.checkpoint();
    assert.ok(db.logStats.firstLsn > start, "once acknowledged, checkpoints free the log again");
  });

  test("a cursor further behind than feedCursorLagBytesMax is dropped: event, counter, typed error for its readers", async () => {
    const options = { ...SMALL, feedCursorLagBytesMax: 20_000 };
    {
      await using db = await openStore(dir, options);
      await db.feedCursors.create("slow");
      await db.feedCursors.create("keeping-up");
      const events: CursorDroppedEvent[] = [];
      db.on("cursorDropped", (event) => events.push(event));
      const reader = db.changes({ cursor: "slow" });
      const first = await (async () => {
        const lsn = await fill(db, 1);
        await db.feedCursors.ack("keeping-up", lsn);
        return take(reader, 1);
      })();
      assert.equal(first.length, 1);
      await db.checkpoint();
      const last = await fill(db, 100);
      await db.feedCursors.ack("keeping-up", last);
      await db.checkpoint();
      assert.deepEqual(
        events.map((e) => [e.name, e.error.code]),
        [["slow", "LOGBOOK_CURSOR_DROPPED"]],
      );
      assert.ok((events[0]?.lagBytes ?? 0) > 20_000);
      assert.equal(db.feedCursors.droppedTotal, 1);
      assert.deepEqual(
        db.feedCursors.list().map((c) => c.name),
        ["keeping-up"],
      );
      // The reader had read one change; it stops with the drop's error, whatever was left to read.
      await assert.rejects(async () => {
        for (let i = 0; i < 1000; i++) if ((await within(reader.next())).done === true) return;
      }, hasCode("LOGBOOK_CURSOR_DROPPED"));
      assert.throws(() => db.changes({ cursor: "slow" }), hasCode("LOGBOOK_CURSOR_DROPPED"));
      await assert.rejects(db.feedCursors.ack("slow", last), hasCode("LOGBOOK_CURSOR_DROPPED"));
    }
    await using db = await openStore(dir, options);
    assert.throws(() => db.changes({ cursor: "slow" }), hasCode("LOGBOOK_CURSOR_DROPPED"), "the drop survives a reopen");
    await db.feedCursors.create("slow");
    assert.deepEqual(
      db.feedCursors.list().map((c) => c.name),
      ["keeping-up", "slow"],
    );
  });

  test("dropping a cursor ends its readers with LOGBOOK_NOT_FOUND", async () => {
    await using db = await openStore(dir, SMALL);
    await db.feedCursors.create("c");
    const reader = db.changes({ cursor: "c" });
    const ended = assert.rejects(within(reader.next()), hasCode("LOGBOOK_NOT_FOUND"));
    await db.feedCursors.drop("c");
    await ended;
  });
});
