import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError, Log, type LogOptions } from "../../src/index.js";
import { bytes, tempDir, text } from "../support/temp.js";

const SMALL: LogOptions = { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 };

async function collect(iterable: AsyncIterable<{ lsn: number; payload: Uint8Array }>): Promise<[number, string][]> {
  const out: [number, string][] = [];
  for await (const record of iterable) out.push([record.lsn, text(record.payload)]);
  return out;
}

describe("Log", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("append resolves increasing LSNs, and read returns every record in order", async () => {
    await using log = await Log.open(dir, SMALL);
    assert.equal(log.recovery.created, true);
    const lsns = await Promise.all(Array.from({ length: 100 }, (_, i) => log.append(bytes(`r${i}`))));
    assert.deepEqual(
      [...lsns].sort((a, b) => a - b),
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const records = await collect(log.read());
    assert.equal(records.length, 100);
    records.forEach(([lsn], i) => assert.equal(lsn, i + 1));
    // Concurrent appends are sequenced in call order.
    assert.deepEqual(
      lsns,
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    assert.deepEqual(records[41], [42, "r41"]);
    assert.equal(log.durableLsn, 100);
    assert.equal(log.writtenLsn, 100);
    assert.equal(log.lastLsn, 100);
  });

  test("concurrent appends share fsyncs (group commit)", async () => {
    await using log = await Log.open(dir, SMALL);
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(bytes(`c${i}`))));
    const stats = log.stats();
    assert.equal(stats.records, 200);
    assert.ok(stats.fsyncs < 200, `expected shared fsyncs, got ${stats.fsyncs} for 200 records`);
    assert.ok(stats.recordsPerCommit > 1);
  });

  test("appendBatch returns contiguous LSNs and an empty batch is a no-op", async () => {
    await using log = await Log.open(dir, SMALL);
    await log.append(bytes("first"));
    assert.deepEqual(await log.appendBatch([bytes("a"), bytes("b"), bytes("c")]), [2, 3, 4]);
    assert.deepEqual(await log.appendBatch([]), []);
    assert.deepEqual(await collect(log.read({ from: 3 })), [
      [3, "b"],
      [4, "c"],
    ]);
  });

  test("records survive close and reopen, rotation included, and LSNs continue", async () => {
    const payload = new Uint8Array(1000).fill(7);
    {
      await using log = await Log.open(dir, SMALL);
      for (let i = 0; i < 10; i++) await Promise.all(Array.from({ length: 50 }, () => log.append(payload)));
      assert.ok(log.stats().segments > 3, "rotated into several segments");
    }
    await using log = await Log.open(dir, SMALL);
    assert.equal(log.recovery.created, false);
    assert.equal(log.lastLsn, 500);
    assert.equal(await log.append(bytes("next")), 501);
    let count = 0;
    for await (const record of log.read()) {
      count++;
      assert.equal(record.lsn, count);
      if (record.lsn <= 500) assert.deepEqual(record.payload, payload);
    }
    assert.equal(count, 501);
  });

  test("read from an LSN in a later segment starts there", async () => {
    await using log = await Log.open(dir, SMALL);
    for (let i = 1; i <= 300; i++) await log.append(bytes(`x${i}`.padEnd(400, ".")));
    assert.ok(log.stats().segments >= 2);
    const records = await collect(log.read({ from: 250 }));
    assert.equal(records[0]?.[0], 250);
    assert.equal(records.length, 51);
  });

  test("visitRecords hands over in place exactly what read returns, from any LSN, across segments", async () => {
    await using log = await Log.open(dir, SMALL);
    for (let i = 1; i <= 300; i += 3) await log.appendBatch([bytes(`a${i}`), bytes(`b${i}`.padEnd(i * 10, ".")), bytes("")]);
    assert.ok(log.stats().segments >= 2);
    for (const from of [0, 1, 2, 150, 299, 300, 301]) {
      const visited: [number, string][] = [];
      await log.visitRecords({ from }, (lsn, memory, start, end) => visited.push([lsn, text(memory.slice(start, end))]));
      assert.deepEqual(visited, await collect(log.read({ from })), `from ${from}`);
    }
    await assert.rejects(
      log.visitRecords({ from: -1 }, () => assert.fail("nothing to visit")),
      (error) => isLogbookError(error, "LOGBOOK_INVALID_LSN"),
    );
  });

  test("truncateBefore frees whole segments only, and LSNs are never reused", async () => {
    const payload = new Uint8Array(2000);
    {
      await using log = await Log.open(dir, SMALL);
      for (let i = 0; i < 150; i++) await log.append(payload);
      const segmentsBefore = log.stats().segments;
      const removed = await log.truncateBefore(120);
      assert.ok(removed >= 1 && removed < segmentsBefore);
      assert.ok(log.firstLsn <= 120, "the segment holding LSN 120 is kept");
      assert.ok(log.firstLsn > 1);
      await assert.rejects(collect(log.read({ from: 1 })), (e) => isLogbookError(e, "LOGBOOK_TRUNCATED"));
      assert.equal((await collect(log.read({ from: 120 })))[0]?.[0], 120);
      // Truncating everything keeps the active segment, so the next LSN is still known.
      await log.truncateBefore(151);
      assert.equal(await log.append(payload), 151);
    }
    await using log = await Log.open(dir, SMALL);
    assert.equal(await log.append(payload), 152);
  });

  test("truncateBefore refuses an LSN that is not durable yet", async () => {
    await using log = await Log.open(dir, SMALL);
    await log.append(bytes("a"));
    await assert.rejects(log.truncateBefore(10), (e) => isLogbookError(e, "LOGBOOK_INVALID_LSN"));
    await assert.rejects(log.truncateBefore(-1), (e) => isLogbookError(e, "LOGBOOK_INVALID_LSN"));
  });

  test("tail follows new records until aborted", async () => {
    await using log = await Log.open(dir, SMALL);
    await log.append(bytes("before"));
    const controller = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const record of log.tail({ from: 1, signal: controller.signal })) {
        seen.push(text(record.payload));
        if (seen.length === 4) controller.abort();
      }
    })();
    for (const word of ["one", "two", "three"]) await log.append(bytes(word));
    await assert.rejects(following, (e) => isLogbookError(e, "LOGBOOK_ABORTED"));
    assert.deepEqual(seen, ["before", "one", "two", "three"]);
  });

  test("tail crosses segment rotations and ends when the log closes", async () => {
    const log = await Log.open(dir, SMALL);
    const seen: number[] = [];
    const following = (async () => {
      for await (const record of log.tail()) seen.push(record.lsn);
    })();
    const payload = new Uint8Array(3000);
    for (let i = 0; i < 60; i++) await log.append(payload);
    while (seen.length < 60) await new Promise((resolve) => setTimeout(resolve, 5));
    await log.close();
    await following;
    assert.deepEqual(
      seen,
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    assert.ok(log.stats().rotations >= 2);
  });

  test("sync interval: appends resolve when written, and become durable within the interval", async () => {
    await using log = await Log.open(dir, { ...SMALL, sync: "interval", syncIntervalMs: 20 });
    const lsn = await log.append(bytes("soon durable"));
    assert.ok(log.writtenLsn >= lsn);
    const started = Date.now();
    while (log.durableLsn < lsn && Date.now() - started < 5000) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(log.durableLsn >= lsn, "the interval timer made it durable");
  });

  test("sync none: waitFor durable forces an fdatasync", async () => {
    await using log = await Log.open(dir, { ...SMALL, sync: "none" });
    const lsn = await log.append(bytes("x"));
    assert.equal(log.durableLsn, 0);
    await log.waitFor(lsn, "durable");
    assert.equal(log.durableLsn, lsn);
    await assert.rejects(log.waitFor(lsn + 10), (e) => isLogbookError(e, "LOGBOOK_INVALID_LSN"));
  });

  test("commit and durable events report each group commit", async () => {
    await using log = await Log.open(dir, SMALL);
    const commits: number[] = [];
    log.on("commit", (info) => commits.push(info.records));
    await Promise.all([log.append(bytes("a")), log.append(bytes("b"))]);
    assert.equal(
      commits.reduce((a, b) => a + b, 0),
      2,
    );
  });

  test("appends beyond the ring wait in memory, keep their call-order LSNs, and all commit", async () => {
    await using log = await Log.open(dir, { segmentBytes: 1 << 20, batchBytesMax: 8192 });
    const payload = (i: number) => new Uint8Array(4000).fill(i % 251);
    // 600 × 4 KB is more than the 1 MiB ring: most of these wait in the overflow queue. Each
    // is sequenced when append is called: its LSN is taken then.
    const appended = Array.from({ length: 600 }, (_, i) => {
      const lsn = log.append(payload(i));
      assert.equal(log.lastLsn, i + 1);
      return lsn;
    });
    assert.deepEqual(
      await Promise.all(appended),
      Array.from({ length: 600 }, (_, i) => i + 1),
    );
    let i = 0;
    for await (const record of log.read()) assert.equal(record.payload[0], i++ % 251);
    assert.equal(i, 600);
  });

  test("beyond pendingBytesMax appends reject with LOGBOOK_OVERLOADED and nothing is sequenced", async () => {
    await using log = await Log.open(dir, { ...SMALL, pendingBytesMax: 32 * 1024 });
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => log.append(new Uint8Array(2000))));
    const lsns: number[] = [];
    let overloaded = 0;
    for (const result of results) {
      if (result.status === "fulfilled") lsns.push(result.value);
      else {
        assert.ok(isLogbookError(result.reason, "LOGBOOK_OVERLOADED"), String(result.reason));
        overloaded++;
      }
    }
    assert.ok(overloaded > 0);
    assert.deepEqual(
      lsns,
      Array.from({ length: lsns.length }, (_, i) => i + 1),
    );
    assert.equal(log.lastLsn, lsns.length);
  });

  test("bad input gets typed errors", async () => {
    await assert.rejects(Log.open(dir, { sync: "sometimes" as never }), (e) => isLogbookError(e, "LOGBOOK_INVALID_OPTION"));
    await assert.rejects(Log.open(dir, { segmentBytes: 100 }), (e) => isLogbookError(e, "LOGBOOK_INVALID_OPTION"));
    await assert.rejects(Log.open(dir, { batchBytesMax: 1.5 }), (e) => isLogbookError(e, "LOGBOOK_INVALID_OPTION"));
    await assert.rejects(Log.open(dir, { commitOnEventLoop: "yes" as never }), (e) =>
      isLogbookError(e, "LOGBOOK_INVALID_OPTION"),
    );
    await assert.rejects(Log.open(`${dir}/missing`, { create: false }), (e) => isLogbookError(e, "LOGBOOK_NOT_FOUND"));
    await using log = await Log.open(dir, SMALL);
    await assert.rejects(log.append("text" as never), TypeError);
    await assert.rejects(log.appendBatch([bytes("ok"), 5 as never]), TypeError);
    await assert.rejects(log.append(new Uint8Array(log.payloadBytesMax + 1)), (e) =>
      isLogbookError(e, "LOGBOOK_RECORD_TOO_LARGE"),
    );
    assert.equal(typeof (await log.append(new Uint8Array(log.payloadBytesMax))), "number");
    await assert.rejects(collect(log.read({ from: -3 })), (e) => isLogbookError(e, "LOGBOOK_INVALID_LSN"));
    // Nothing was appended by the failed calls.
    assert.equal(log.lastLsn, 1);
  });

  test("after close, appends reject with LOGBOOK_CLOSED; close is idempotent", async () => {
    const log = await Log.open(dir, SMALL);
    const pending = log.append(bytes("last one"));
    await log.close();
    assert.equal(await pending, 1, "an append made before close is committed by close");
    await log.close();
    await assert.rejects(log.append(bytes("late")), (e) => isLogbookError(e, "LOGBOOK_CLOSED"));
  });

  test("a read-only open reads but refuses appends", async () => {
    {
      await using log = await Log.open(dir, SMALL);
      await log.append(bytes("kept"));
    }
    await using log = await Log.open(dir, { ...SMALL, readOnly: true });
    assert.deepEqual(await collect(log.read()), [[1, "kept"]]);
    await assert.rejects(log.append(bytes("no")), (e) => isLogbookError(e, "LOGBOOK_READ_ONLY"));
  });

  test("a complete spare segment is kept across reopen and used by the next rotation", async () => {
    const { readdir } = await import("node:fs/promises");
    {
      await using log = await Log.open(dir, SMALL);
      // A quarter of the 64 KiB segment written starts the spare.
      for (let i = 0; i < 6; i++) await log.append(new Uint8Array(3000));
      for (let i = 0; i < 400 && !log.stats().spareSegmentReady; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(log.stats().spareSegmentReady, true);
    }
    assert.ok((await readdir(dir)).includes("spare.log"));
    await using log = await Log.open(dir, SMALL);
    assert.equal(log.stats().spareSegmentReady, true, "ready at once: not zero-filled again");
    for (let i = 0; i < 40; i++) await log.append(new Uint8Array(3000));
    assert.ok(log.stats().rotations >= 1);
    assert.equal((await readdir(dir)).filter((name) => name.endsWith(".tmp")).length <= 1, true);
  });

  test("commits move between the event loop and the writer thread, in order, with nothing lost", async () => {
    const busyMs = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    let next = 0;
    const appendOne = async (work: number) => {
      const label = `r${next++}`;
      // Padded, so that the bursts below fill frames and rotate segments.
      const lsn = await log.append(bytes(label.padEnd(400, ".")));
      busyMs(work);
      return [lsn, label] as const;
    };
    const acknowledged: (readonly [number, string])[] = [];
    const log = await Log.open(dir, SMALL);
    // Alone, each append's commit is cheaper than nothing: the event loop commits it itself.
    for (let i = 0; i < 20; i++) acknowledged.push(await appendOne(0));
    const alone = log.stats();
    assert.ok(alone.commitsOnEventLoop > 0, "the event loop committed");
    // Eight writers whose JavaScript after each append outweighs a commit: the writer thread
    // starts before the burst is complete, overlapping the JavaScript of the rest.
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 12; i++) acknowledged.push(await appendOne(4));
      }),
    );
    const busy = log.stats();
    assert.ok(busy.commits - busy.commitsOnEventLoop > 0, "the writer thread committed");
    // Bursts big enough to rotate segments and to fill frames, then alone again.
    for (let round = 0; round < 6; round++) {
      acknowledged.push(...(await Promise.all(Array.from({ length: 40 }, () => appendOne(0)))));
      for (let i = 0; i < 5; i++) acknowledged.push(await appendOne(0));
    }
    assert.ok(log.stats().rotations >= 1);
    await log.close();
    await using reopened = await Log.open(dir, SMALL);
    const byLsn = new Map(acknowledged);
    const read = [];
    for await (const record of reopened.read()) read.push([record.lsn, text(record.payload).replace(/\.+$/, "")] as const);
    assert.equal(read.length, acknowledged.length);
    for (const [lsn, label] of read) assert.equal(byLsn.get(lsn), label, `LSN ${lsn}`);
  });

  test("with commitOnEventLoop false the writer thread makes every commit", async () => {
    await using log = await Log.open(dir, { ...SMALL, commitOnEventLoop: false });
    for (let i = 0; i < 10; i++) await log.append(bytes(`r${i}`));
    await Promise.all(Array.from({ length: 30 }, (_, i) => log.append(bytes(`b${i}`))));
    assert.equal(log.stats().commitsOnEventLoop, 0);
    assert.ok(log.stats().commits >= 2);
    assert.equal(log.durableLsn, 40);
  });

  test("the spare is zero-filled only once the active segment is a quarter full, not at open", async () => {
    const { readdir } = await import("node:fs/promises");
    await using log = await Log.open(dir, SMALL);
    await log.append(new Uint8Array(3000));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(log.stats().spareSegmentReady, false);
    assert.ok(!(await readdir(dir)).some((name) => name.startsWith("spare")), "no spare file yet");
    for (let i = 0; i < 5; i++) await log.append(new Uint8Array(3000));
    for (let i = 0; i < 400 && !log.stats().spareSegmentReady; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(log.stats().spareSegmentReady, true);
  });

  test("without preallocation segments grow as written and everything still reads back", async () => {
    {
      await using log = await Log.open(dir, { ...SMALL, preallocate: false });
      for (let i = 0; i < 100; i++) await log.append(new Uint8Array(1500).fill(i));
    }
    await using log = await Log.open(dir, { ...SMALL, preallocate: false });
    let i = 0;
    for await (const record of log.read()) assert.equal(record.payload[0], i++);
    assert.equal(i, 100);
  });
});
