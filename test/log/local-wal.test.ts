/**
 * What the local log adds to the WriteAheadLog contract (wal-conformance.ts covers the rest):
 * the owner's hooks come before the Log's public events, and sequenced writes past the commit
 * ring wait in its overflow queue with the LSNs they were given.
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import type { CommitInfo, PayloadSource } from "../../src/log/index.js";
import { openLocalWal } from "../../src/log/index.js";
import { openLogWithHooks } from "../../src/log/log.js";
import { wrapFileSystem } from "../../src/testing/index.js";
import { bytes, tempDir, text } from "../support/temp.js";

function source(body: string): PayloadSource {
  return {
    payloadBytes: body.length,
    writePayload(target, offset) {
      for (let i = 0; i < body.length; i++) target[offset + i] = body.charCodeAt(i);
    },
  };
}

describe("the local log behind the seam", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("the owner's hooks hear of each commit and of the failure before the Log's public events", async () => {
    let failing = false;
    const fileSystem = wrapFileSystem(new NodeFileSystem(), {
      handle: (inner) => ({
        datasync: async () => {
          if (failing && inner.path.endsWith(".log")) throw Object.assign(new Error("EIO: injected"), { code: "EIO" });
          await inner.datasync();
        },
      }),
    });
    const heard: string[] = [];
    const { log } = await openLogWithHooks(
      dir,
      { fileSystem },
      {
        onCommit: (info) => heard.push(`hook ${info.lastLsn}`),
        onFailure: (error) => heard.push(`hook ${error.code}`),
      },
    );
    try {
      log.on("commit", (info: CommitInfo) => heard.push(`event ${info.lastLsn}`));
      log.on("failure", (error) => heard.push(`event ${error.code}`));
      await log.append(bytes("one"));
      assert.deepEqual(heard, ["hook 1", "event 1"]);
      failing = true;
      await assert.rejects(log.append(bytes("two")));
      assert.deepEqual(heard.slice(2), ["hook LOGBOOK_LOG_FAILED", "event LOGBOOK_LOG_FAILED"]);
    } finally {
      await log.close();
    }
  });

  test("groups and payload sources past the ring wait in the overflow queue, keep their LSNs, and are all acknowledged", async () => {
    let acknowledged = 0;
    const wal = await openLocalWal(
      dir,
      { segmentBytes: 1 << 20, batchBytesMax: 8192 },
      {
        onCommit: (info) => {
          assert.equal(info.firstLsn, acknowledged + 1, "commits come in LSN order without gaps");
          acknowledged = info.lastLsn;
        },
        onFailure: (error) => assert.fail(error),
      },
    );
    try {
      // 15,000 records of ~100 bytes and 600 of 4 KB in one turn: past the ring (1 MiB at
      // least), so the last ones wait in the overflow queue; every fifth is a group of its own.
      const expected: string[] = [];
      for (let i = 0; i < 15_600; i++) {
        const body =
          i < 600 ? `big ${i} `.padEnd(4000, "b") : `encoded ${i} `.padEnd(40 + (i % 64), String.fromCharCode(97 + (i % 26)));
        expected.push(body);
        assert.equal(i % 5 === 0 ? wal.sequence([bytes(body)]) : wal.sequence(source(body)), i + 1);
      }
      await wal.waitFor(wal.lastLsn, "durable");
      assert.equal(acknowledged, 15_600);
      const seen: string[] = [];
      await wal.visitRecords({}, (_lsn, memory, start, end) => seen.push(text(memory.subarray(start, end))));
      assert.deepEqual(seen, expected);
    } finally {
      await wal.close();
    }
  });
});
