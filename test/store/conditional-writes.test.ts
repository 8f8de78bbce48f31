/**
 * Conditional writes (`ifVersion`, `ifVersions`) against writes that are sequenced but not yet
 * durable: a conflict with such a write is answered once that write settles, with a version a
 * crash cannot take back, so that a retry loop that re-reads with `get` makes progress.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError, type StoreOptions } from "../../src/index.js";
import { SequencedWrites } from "../../src/store/sequenced-writes.js";
import { commitGate, openStore } from "../support/store-log.js";
import { tempDir } from "../support/temp.js";

const SMALL: StoreOptions = { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024, checkpointEveryBytes: 0 };

test("a waiter is called after the drain that applies every write up to its LSN, or fails with failAll", () => {
  const writes = new SequencedWrites();
  const events: string[] = [];
  const apply = (key: string, _value: unknown, lsn: number) => events.push(`apply ${key}@${lsn}`);
  writes.add("a", "1", 1);
  writes.add("b", "2", 2);
  writes.add("a", "3", 3);
  assert.equal(writes.latestLsnOf("a"), 3);
  assert.equal(writes.latestLsnOf("z"), undefined);
  writes.whenApplied(
    2,
    () => events.push("waiter 2"),
    () => events.push("failed 2"),
  );
  writes.whenApplied(
    3,
    () => events.push("waiter 3"),
    () => events.push("failed 3"),
  );
  writes.drainUpTo(1, apply);
  writes.drainUpTo(2, apply);
  assert.deepEqual(events, ["apply a@1", "apply b@2", "waiter 2"]);
  writes.failAll(new Error("the log failed"));
  assert.deepEqual(events.slice(3), ["failed 3"]);
  writes.drainUpTo(3, apply);
  assert.equal(events.length, 4, "a failed waiter is never called again");
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("conditional writes against writes not yet durable", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("two compare-and-set loops that re-read with get on each conflict both finish, and timers fire meanwhile", async () => {
    await using db = await openStore(dir, SMALL);
    const incrementsEach = 200;
    // Bounded in time and attempts, checked inside the loops: a loop that starves the event
    // loop never lets a timer (nor node:test's timeout) fire, so only these can stop it.
    const deadlineMs = performance.now() + 30_000;
    const attemptsMax = 50 * incrementsEach;
    let attempts = 0;
    let timerTicks = 0;
    const ticker = setInterval(() => {
      timerTicks++;
    }, 1);
    const increment = async (): Promise<void> => {
      for (let done = 0; done < incrementsEach; done++) {
        for (;;) {
          attempts++;
          if (attempts > attemptsMax || performance.now() > deadlineMs) {
            throw new Error(`no progress: ${attempts} attempts, ${done} of ${incrementsEach} increments done`);
          }
          const cur = await db.get("counter");
          try {
            await db.put("counter", ((cur?.value as number | undefined) ?? 0) + 1, { ifVersion: cur?.version ?? 0 });
            break;
          } catch (e) {
            if ((e as { code?: string }).code !== "LOGBOOK_CONFLICT") throw e;
          }
        }
      }
    };
    try {
      await Promise.all([increment(), increment()]);
    } finally {
      clearInterval(ticker);
    }
    assert.equal(db.getSync("counter")?.value, 2 * incrementsEach);
    assert.ok(timerTicks > 0, "a timer fired while the loops ran");
  });

  test("a conflict with a write not yet durable is answered once that write is applied, with its version", async () => {
    const gate = commitGate();
    await using db = await openStore(dir, { ...SMALL, ...gate.options });
    const v1 = await db.put("k", "one");
    gate.hold();
    const pending = db.put("k", "two");
    let settled = false;
    const stale = db.put("k", "three", { ifVersion: v1 }).finally(() => {
      settled = true;
    });
    stale.catch(() => undefined);
    for (let i = 0; i < 20; i++) await nextTurn();
    assert.equal(settled, false, "not rejected while the write it conflicts with may still be lost");
    gate.release();
    const v2 = await pending;
    await assert.rejects(stale, (e) => {
      assert.ok(isLogbookError(e, "LOGBOOK_CONFLICT"), String(e));
      assert.equal(e.currentVersion, v2);
      assert.equal(db.getSync("k")?.version, e.currentVersion, "the version named is the one a read returns");
      return true;
    });
  });

  test("a conflict's currentVersion is the applied version, even while a later write on the key is pending", async () => {
    const gate = commitGate();
    await using db = await openStore(dir, { ...SMALL, ...gate.options });
    const v1 = await db.put("k", "one");
    gate.hold();
    const pending = db.put("k", "two");
    // Wrong against the applied state itself: answered at once, naming the applied version.
    await assert.rejects(db.put("k", "x", { ifVersion: v1 + 1000 }), (e) => {
      assert.ok(isLogbookError(e, "LOGBOOK_CONFLICT"), String(e));
      assert.equal(e.currentVersion, v1);
      assert.equal(db.getSync("k")?.version, v1);
      return true;
    });
    gate.release();
    await pending;
  });

  test("a conditional write chained on one's own pending write holds, and lands after it", async () => {
    const gate = commitGate();
    await using db = await openStore(dir, { ...SMALL, ...gate.options });
    gate.hold();
    const first = db.put("k", "one", { ifVersion: 0 });
    const chained = db.put("k", "two", { ifVersion: db.versionOf("k") });
    gate.release();
    const [v1, v2] = await Promise.all([first, chained]);
    assert.ok(v2 > v1);
    assert.deepEqual(db.getSync("k"), { value: "two", version: v2 });
  });

  test("of two racing conditional writes on one version exactly one wins, durable or not", async () => {
    const gate = commitGate();
    await using db = await openStore(dir, { ...SMALL, ...gate.options });
    const v1 = await db.put("k", 0);
    for (const held of [false, true]) {
      const base = db.getSync("k")?.version ?? v1;
      if (held) gate.hold();
      const racing = [db.put("k", "a", { ifVersion: base }), db.put("k", "b", { ifVersion: base })];
      const batch = db.batch([{ type: "put", key: "other", value: 1 }], { ifVersions: { k: base } });
      if (held) setTimeout(() => gate.release(), 20);
      const results = await Promise.allSettled([...racing, batch]);
      assert.deepEqual(
        results.map((r) => r.status),
        ["fulfilled", "rejected", "rejected"],
      );
      const winner = (results[0] as PromiseFulfilledResult<number>).value;
      for (const r of results.slice(1)) {
        const reason = (r as PromiseRejectedResult).reason;
        assert.ok(isLogbookError(reason, "LOGBOOK_CONFLICT"), String(reason));
        assert.equal(reason.currentVersion, winner);
      }
      assert.deepEqual(db.getSync("k"), { value: "a", version: winner });
      assert.equal(db.getSync("other"), undefined, "the losing batch applied nothing");
    }
  });

  test("a batch whose conditions fail only against pending writes waits for the newest of them", async () => {
    const gate = commitGate();
    await using db = await openStore(dir, { ...SMALL, ...gate.options });
    const va = await db.put("a", 1);
    const vb = await db.put("b", 1);
    gate.hold();
    const pendingA = db.put("a", 2);
    const pendingB = db.put("b", 2);
    let settled = false;
    const batch = db.batch([{ type: "put", key: "c", value: 1 }], { ifVersions: { a: va, b: vb } }).finally(() => {
      settled = true;
    });
    batch.catch(() => undefined);
    for (let i = 0; i < 20; i++) await nextTurn();
    assert.equal(settled, false);
    gate.release();
    const [va2, vb2] = await Promise.all([pendingA, pendingB]);
    await assert.rejects(batch, (e) => {
      assert.ok(isLogbookError(e, "LOGBOOK_CONFLICT"), String(e));
      assert.equal(e.key, "a", "the first condition that failed");
      assert.equal(e.currentVersion, va2);
      assert.equal(db.getSync("b")?.version, vb2, "both writes it conflicted with were applied first");
      return true;
    });
    assert.equal(db.getSync("c"), undefined);
  });

  test("a conflict with a pending write whose log then fails rejects with the log's failure, not a conflict", async () => {
    const gate = commitGate();
    const db = await openStore(dir, { ...SMALL, ...gate.options });
    try {
      const v1 = await db.put("k", "one");
      gate.hold();
      const pending = db.put("k", "two");
      const stale = db.put("k", "three", { ifVersion: v1 });
      const results = Promise.allSettled([pending, stale]);
      for (let i = 0; i < 5; i++) await nextTurn();
      gate.release(true);
      const [lost, conflicted] = await results;
      assert.equal(lost.status, "rejected");
      assert.ok(isLogbookError(lost.reason, "LOGBOOK_LOG_FAILED"), String(lost.reason));
      assert.equal(conflicted.status, "rejected");
      assert.ok(isLogbookError(conflicted.reason, "LOGBOOK_LOG_FAILED"), String(conflicted.reason));
      assert.equal(db.getSync("k")?.version, v1);
    } finally {
      await db.close().catch(() => undefined);
    }
  });
});
