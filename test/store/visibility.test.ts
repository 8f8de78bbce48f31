/**
 * When a store write becomes visible, per sync mode (docs/guarantees.md, "The store"): once it
 * is acknowledged and applied. Under "always" that is once its log record is durable; under
 * "interval" and "none" once the record is written to the OS, before any fdatasync covers it.
 * The disk is node:fs with the segments' fdatasyncs held at a gate, so "written, not durable"
 * lasts as long as the test looks (under the memory log, "always" holds its acknowledgement).
 */
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { wrapFileSystem } from "../../src/testing/index.js";
import { commitGate, localLogOnly, openStore } from "../support/store-log.js";
import { tempDir } from "../support/temp.js";

/** Long enough that the interval timer never syncs during a test. */
const INTERVAL_NEVER_MS = 600_000;
/** How long a test lets a put that must not resolve run before it looks. */
const SETTLE_GRACE_MS = 100;

/** node:fs whose segment fdatasyncs wait while `held`. */
function syncGate() {
  let release: () => void = () => undefined;
  let held: Promise<void> | undefined;
  const fileSystem = wrapFileSystem(new NodeFileSystem(), {
    handle: (inner) =>
      inner.path.endsWith(".log")
        ? {
            datasync: async () => {
              await held;
              await inner.datasync();
            },
          }
        : {},
  });
  return {
    fileSystem,
    hold: () => {
      held = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    release: () => {
      held = undefined;
      release();
    },
  };
}

describe("store visibility", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  for (const sync of ["interval", "none"] as const) {
    test(
      `sync ${sync}: a put is visible once its record is written, before it is durable`,
      localLogOnly("its sync modes"),
      async () => {
        const gate = syncGate();
        await using db = await openStore(dir, { sync, syncIntervalMs: INTERVAL_NEVER_MS, fileSystem: gate.fileSystem });
        gate.hold();
        try {
          const version = await db.put("key", "value");
          assert.deepEqual(db.getSync("key"), { value: "value", version });
          assert.ok(db.logStats.writtenLsn >= version);
          assert.ok(db.logStats.durableLsn < version, `durable up to ${db.logStats.durableLsn}, yet the put was seen`);
        } finally {
          gate.release();
        }
      },
    );
  }

  test("sync always: a put is visible only once its record is durable", async () => {
    const gate = commitGate();
    await using db = await openStore(dir, { sync: "always", ...gate.options });
    gate.hold();
    let resolved = false;
    const put = db.put("key", "value").then((version) => {
      resolved = true;
      return version;
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_GRACE_MS));
      assert.equal(resolved, false, "the put resolved while its fdatasync was held");
      assert.equal(db.getSync("key"), undefined, "the put was seen before it was durable");
    } finally {
      gate.release();
    }
    const version = await put;
    assert.deepEqual(db.getSync("key"), { value: "value", version });
    assert.ok(db.logStats.durableLsn >= version);
  });
});
