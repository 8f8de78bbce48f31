/**
 * What `log.waitFor(lsn, level)` promises under each sync mode: "written" resolves once the
 * record's write to the OS returned, never before; "durable" once an fdatasync that began after
 * that write returned, and it starts that fdatasync itself rather than waiting for a timer; an
 * LSN never sequenced, a closed log and a failed log answer with typed errors.
 *
 * Most tests run the log on node:fs behind a wrapper whose segment writes and fdatasyncs wait
 * at gates the test holds (test/support/gated-disk.ts): handles without a descriptor make the
 * log commit through them, so "not yet written" and "written, not yet durable" last as long
 * as the test needs.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError, Log, type LogbookErrorCode, type LogOptions } from "../../src/index.js";
import { GatedDisk } from "../support/gated-disk.js";
import { bytes, tempDir } from "../support/temp.js";

const SYNC_MODES = ["always", "interval", "none"] as const;
/** Long enough that the interval timer never syncs during a test unless the test asks it to. */
const INTERVAL_NEVER_MS = 600_000;
/** How long a test lets a promise that must not settle run before it looks. */
const SETTLE_GRACE_MS = 100;

interface Tracked {
  settled: boolean;
  error: unknown;
}

/** Watches a promise without awaiting it. */
function track(promise: Promise<unknown>): Tracked {
  const state: Tracked = { settled: false, error: undefined };
  promise.then(
    () => {
      state.settled = true;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

const pause = (ms = SETTLE_GRACE_MS) => new Promise((resolve) => setTimeout(resolve, ms));

function withCode(code: LogbookErrorCode) {
  return (error: unknown) => isLogbookError(error, code);
}

/** Whether `payload` is in the active segment's file as node:fs reads it now (handed to the OS). */
async function inSegmentFile(log: Log, payload: Uint8Array): Promise<boolean> {
  const segment = log.segments().at(-1);
  assert.ok(segment !== undefined);
  return (await readFile(segment.path)).includes(Buffer.from(payload));
}

describe("log.waitFor", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  async function openGated(sync: (typeof SYNC_MODES)[number], disk: GatedDisk, options: LogOptions = {}): Promise<Log> {
    return Log.open(dir, {
      sync,
      syncIntervalMs: INTERVAL_NEVER_MS,
      preallocate: false,
      fileSystem: disk.fileSystem,
      ...options,
    });
  }

  for (const sync of SYNC_MODES) {
    const after = sync === "always" ? "and its fdatasync returned (published together)" : "returned, not durable yet";
    test(`sync ${sync}: "written" resolves once the record's write ${after}, never before`, async () => {
      const disk = new GatedDisk();
      await using log = await openGated(sync, disk);
      await log.append(bytes("first"));
      disk.writes.hold();
      if (sync === "always") disk.syncs.hold();
      const payload = bytes("the record waited for");
      const appended = track(log.append(payload));
      const lsn = log.lastLsn;
      const written = track(log.waitFor(lsn, "written"));
      await pause();
      assert.equal(written.settled, false, "resolved while the write was held");
      assert.equal(appended.settled, false, "acknowledged while the write was held");
      assert.equal(log.writtenLsn, lsn - 1);
      assert.equal(await inSegmentFile(log, payload), false);
      disk.writes.release();
      if (sync === "always") {
        // A frame's write and fdatasync are published together: "written" waits for both.
        await pause();
        assert.equal(await inSegmentFile(log, payload), true, "the write returned");
        assert.equal(written.settled, false, "resolved while the fdatasync was held");
        assert.equal(appended.settled, false, "acknowledged while the fdatasync was held");
        assert.equal(log.writtenLsn, lsn - 1);
        disk.syncs.release();
      }
      await log.waitFor(lsn, "written");
      assert.equal(written.error, undefined);
      assert.equal(await inSegmentFile(log, payload), true, "the OS has the bytes");
      if (sync === "always") {
        assert.equal(log.durableLsn, lsn);
      } else {
        assert.ok(log.durableLsn < lsn, `durable up to ${log.durableLsn}: no fdatasync was asked for`);
        assert.ok(!disk.events.includes("fdatasync began"), "written does not sync");
      }
    });
  }

  for (const sync of SYNC_MODES) {
    test(`sync ${sync}: "durable" waits for an fdatasync that began after the write returned, and starts it`, async () => {
      const disk = new GatedDisk();
      await using log = await openGated(sync, disk);
      disk.syncs.hold();
      const appended = track(log.append(bytes("the record waited for")));
      const lsn = log.lastLsn;
      // Under "always" the append's own commit holds the fdatasync; under "interval" (whose
      // timer would not come for minutes) and "none", waitFor asks for it.
      const durable = track(log.waitFor(lsn, "durable"));
      await pause();
      assert.equal(durable.settled, false, "resolved while the fdatasync was held");
      assert.ok(log.durableLsn < lsn);
      assert.ok(disk.events.includes("fdatasync began"), "waitFor started an fdatasync");
      assert.ok(
        disk.events.indexOf("write returned") < disk.events.indexOf("fdatasync began"),
        `the fdatasync began before the write returned: ${disk.events.join(", ")}`,
      );
      if (sync !== "always") assert.equal(appended.settled, true, "acknowledged once written");
      disk.syncs.release();
      await log.waitFor(lsn, "durable");
      assert.equal(durable.error, undefined);
      assert.ok(log.durableLsn >= lsn);
      assert.ok(disk.events.includes("fdatasync returned"));
    });
  }

  test("sync interval: the timer's fdatasync makes written records durable without a waitFor", async () => {
    const disk = new GatedDisk();
    await using log = await openGated("interval", disk, { syncIntervalMs: 20 });
    const lsn = await log.append(bytes("made durable by the timer"));
    for (let waitedMs = 0; log.durableLsn < lsn && waitedMs < 5000; waitedMs += 10) await pause(10);
    assert.ok(log.durableLsn >= lsn, `durable up to ${log.durableLsn} after 5 s`);
    assert.ok(disk.events.includes("fdatasync returned"));
  });

  for (const sync of SYNC_MODES) {
    test(`sync ${sync}: an LSN never sequenced or not an integer rejects with LOGBOOK_INVALID_LSN, a wrong type with TypeError`, async () => {
      await using log = await Log.open(dir, { sync, syncIntervalMs: INTERVAL_NEVER_MS });
      const lsn = await log.append(bytes("one"));
      for (const level of ["written", "durable"] as const) {
        await assert.rejects(log.waitFor(lsn + 1, level), withCode("LOGBOOK_INVALID_LSN"));
        await assert.rejects(log.waitFor(lsn + 1000, level), withCode("LOGBOOK_INVALID_LSN"));
        await assert.rejects(log.waitFor(-1, level), withCode("LOGBOOK_INVALID_LSN"));
        await log.waitFor(0, level); // nothing to wait for
      }
      await assert.rejects(log.waitFor(1.5), (e: unknown) => isLogbookError(e, "LOGBOOK_INVALID_LSN"));
      await assert.rejects(log.waitFor(Number.NaN), (e: unknown) => isLogbookError(e, "LOGBOOK_INVALID_LSN"));
      await assert.rejects(log.waitFor("1" as unknown as number), TypeError);
      await assert.rejects(log.waitFor(1, "fsynced" as "durable"), TypeError);
    });

    test(`sync ${sync}: waits pending when a write fails reject with LOGBOOK_LOG_FAILED, as does every later one`, async () => {
      const disk = new GatedDisk();
      await using log = await openGated(sync, disk);
      const before = await log.append(bytes("durable before the failure"));
      await log.waitFor(before, "durable");
      disk.writes.hold();
      const appended = track(log.append(bytes("never written")));
      const lsn = log.lastLsn;
      const written = track(log.waitFor(lsn, "written"));
      const durable = track(log.waitFor(lsn, "durable"));
      disk.writes.release("EIO");
      for (let waitedMs = 0; !(written.settled && durable.settled && appended.settled) && waitedMs < 5000; waitedMs += 10) {
        await pause(10);
      }
      for (const [name, state] of Object.entries({ appended, written, durable })) {
        assert.ok(isLogbookError(state.error, "LOGBOOK_LOG_FAILED"), `${name}: ${String(state.error)}`);
      }
      await assert.rejects(log.waitFor(lsn, "written"), withCode("LOGBOOK_LOG_FAILED"));
      await assert.rejects(log.waitFor(before, "durable"), withCode("LOGBOOK_LOG_FAILED"));
    });

    test(`sync ${sync}: waits pending at close() resolve, as close makes everything durable; later ones reject with LOGBOOK_CLOSED`, async () => {
      const log = await Log.open(dir, { sync, syncIntervalMs: INTERVAL_NEVER_MS });
      const appended = log.append(bytes("sequenced before close"));
      const lsn = log.lastLsn;
      const durable = log.waitFor(lsn, "durable");
      const written = log.waitFor(lsn, "written");
      const closed = log.close();
      await Promise.all([appended, durable, written, closed]);
      assert.equal(log.durableLsn, lsn);
      for (const level of ["written", "durable"] as const) {
        await assert.rejects(log.waitFor(lsn, level), withCode("LOGBOOK_CLOSED"));
        await assert.rejects(log.waitFor(lsn + 1, level), withCode("LOGBOOK_CLOSED"));
      }
      await assert.rejects(log.sync(), withCode("LOGBOOK_CLOSED"));
    });
  }

  test("a read-only log has every record it holds durable, and will never hold more (LOGBOOK_READ_ONLY)", async () => {
    {
      await using log = await Log.open(dir);
      await log.appendBatch([bytes("a"), bytes("b")]);
    }
    await using log = await Log.open(dir, { readOnly: true });
    await log.waitFor(2, "durable");
    await log.waitFor(1, "written");
    await assert.rejects(log.waitFor(3, "durable"), withCode("LOGBOOK_READ_ONLY"));
  });

  for (const sync of SYNC_MODES) {
    test(`sync ${sync} on the writer thread: after "written" the OS has the bytes, after "durable" an fdatasync covered them`, async () => {
      await using log = await Log.open(dir, { sync, syncIntervalMs: INTERVAL_NEVER_MS });
      const payload = bytes("committed by the writer thread");
      const appended = log.append(payload);
      const lsn = log.lastLsn;
      await log.waitFor(lsn, "written");
      assert.ok(log.writtenLsn >= lsn);
      assert.equal(await inSegmentFile(log, payload), true);
      const fsyncsBefore = log.stats().fsyncs;
      await log.waitFor(lsn, "durable");
      assert.ok(log.durableLsn >= lsn);
      assert.ok(log.stats().fsyncs >= (sync === "always" ? 1 : fsyncsBefore + 1), `${log.stats().fsyncs} fsyncs`);
      assert.equal(await appended, lsn);
    });
  }
});
