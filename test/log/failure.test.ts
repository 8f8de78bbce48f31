import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError, Log, type LogOptions, NodeFileSystem } from "../../src/index.js";
import { killAndWait, spawnTs, waitForLine } from "../support/child.js";
import { FaultyFileSystem } from "../support/faulty-fs.js";
import { bytes, tempDir, text } from "../support/temp.js";

const SMALL: LogOptions = { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 };

async function readPayloads(log: Log): Promise<string[]> {
  const out: string[] = [];
  for await (const record of log.read()) out.push(text(record.payload));
  return out;
}

describe("fail-stop and single writer", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("a failed fdatasync rejects pending and later appends, acknowledges nothing after it, and reads go on", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    const log = await Log.open(dir, { ...SMALL, fileSystem: fs });
    await log.append(bytes("durable"));
    fs.failAfter("datasync-eio", 0);
    const failed = await Promise.allSettled([log.append(bytes("lost 1")), log.append(bytes("lost 2"))]);
    for (const result of failed) {
      assert.equal(result.status, "rejected");
      assert.ok(isLogbookError(result.reason, "LOGBOOK_LOG_FAILED"));
      assert.equal((result.reason as Error).cause instanceof Error, true);
    }
    await assert.rejects(log.append(bytes("after")), (e) => isLogbookError(e, "LOGBOOK_LOG_FAILED"));
    await assert.rejects(log.sync(), (e) => isLogbookError(e, "LOGBOOK_LOG_FAILED"));
    assert.equal(log.stats().failed, true);
    assert.equal(log.durableLsn, 1, "nothing after the failure became durable");
    assert.deepEqual(await readPayloads(log), ["durable"]);
    await log.close();
    await fs.close();
    // The next open decides what is durable; the acknowledged record is there.
    await using reopened = await Log.open(dir, SMALL);
    const payloads = await readPayloads(reopened);
    assert.equal(payloads[0], "durable");
    assert.ok(payloads.length <= 3);
  });

  test("the failure event fires once with the typed error", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    await using log = await Log.open(dir, { ...SMALL, fileSystem: fs });
    const failures: string[] = [];
    log.on("failure", (error) => failures.push(error.code));
    fs.failAfter("write-eio", 0);
    await assert.rejects(log.append(bytes("x")), (e) => isLogbookError(e, "LOGBOOK_LOG_FAILED"));
    assert.deepEqual(failures, ["LOGBOOK_LOG_FAILED"]);
    await fs.close();
  });

  test("ENOSPC rejects with LOGBOOK_NO_SPACE and leaves the log readable and reopenable", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    const log = await Log.open(dir, { ...SMALL, fileSystem: fs });
    await log.appendBatch([bytes("a"), bytes("b")]);
    fs.failAfter("write-enospc", 0);
    await assert.rejects(log.append(bytes(`${"c".repeat(3000)}`)), (e) => isLogbookError(e, "LOGBOOK_NO_SPACE"));
    await assert.rejects(log.append(bytes("d")), (e) => isLogbookError(e, "LOGBOOK_NO_SPACE"));
    assert.deepEqual(await readPayloads(log), ["a", "b"]);
    await log.close();
    await fs.close();
    await using reopened = await Log.open(dir, SMALL);
    assert.deepEqual(await readPayloads(reopened), ["a", "b"], "the half-written frame was cut as a torn tail");
    assert.ok(reopened.recovery.tornTail);
    assert.equal(await reopened.append(bytes("e")), 3);
  });

  for (const [where, commitOnEventLoop] of [
    ["on the writer thread", false],
    ["in a commit on the event loop", true],
  ] as const) {
    test(`a write failing ${where} (ENOSPC) stops the log the same way`, async () => {
      const fs = new FaultyFileSystem(new NodeFileSystem());
      fs.descriptors = "dev-full";
      const log = await Log.open(dir, { ...SMALL, fileSystem: fs, commitOnEventLoop });
      const results = await Promise.allSettled([log.append(bytes("a")), log.append(bytes("b"))]);
      for (const result of results) {
        assert.equal(result.status, "rejected");
        assert.ok(isLogbookError(result.reason, "LOGBOOK_NO_SPACE"), String(result.reason));
      }
      await assert.rejects(log.append(bytes("c")), (e) => isLogbookError(e, "LOGBOOK_NO_SPACE"));
      assert.equal(log.durableLsn, 0);
      await log.close();
      await fs.close();
      await using reopened = await Log.open(dir, SMALL);
      assert.deepEqual(await readPayloads(reopened), []);
      assert.equal(await reopened.append(bytes("d")), 1, "unacknowledged LSNs are handed out again: they never existed");
      assert.equal(log.stats().commitsOnEventLoop, 0, "the failed frame is not counted as committed");
    });
  }

  test("a failure while rotating to a new segment stops the log too", async () => {
    const fs = new FaultyFileSystem(new NodeFileSystem());
    await using log = await Log.open(dir, { ...SMALL, fileSystem: fs, preallocate: false });
    await log.append(new Uint8Array(10_000));
    // Fail the second datasync from now: the first is the old segment's, then the new header's.
    fs.failAfter("datasync-eio", 1);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => log.append(new Uint8Array(8000))));
    assert.ok(results.some((r) => r.status === "rejected"));
    const firstRejected = results.findIndex((r) => r.status === "rejected");
    assert.ok(
      results.slice(firstRejected).every((r) => r.status === "rejected"),
      "nothing is acknowledged after a failure",
    );
    await fs.close();
  });

  test("a second open of the same directory in this process gets LOGBOOK_LOCKED", async () => {
    await using log = await Log.open(dir, SMALL);
    await assert.rejects(Log.open(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_LOCKED"));
    await log.close();
    await using again = await Log.open(dir, SMALL);
    assert.equal(again.lastLsn, 0);
  });

  test("another process holding the log gets LOGBOOK_LOCKED; once it is killed the log reopens", async () => {
    const child = await spawnTs("lock-holder.ts", [dir]);
    try {
      await waitForLine(child, "ready");
      await assert.rejects(Log.open(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_LOCKED"));
    } finally {
      await killAndWait(child);
    }
    await using log = await Log.open(dir, SMALL);
    assert.deepEqual(await readPayloads(log), ["held"]);
  });
});
