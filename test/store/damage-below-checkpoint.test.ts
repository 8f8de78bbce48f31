/**
 * Damage in log records that the newest checkpoint already covers: the store does not need
 * them, so they must not keep it from opening; damage in records replay needs still must.
 */
import assert from "node:assert/strict";
import { access, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import type { Admission } from "../../src/server/admission.js";
import { createMetrics } from "../../src/server/telemetry/index.js";
import { Store, type StoreOptions } from "../../src/store/store.js";
import { localLogOnly } from "../support/store-log.js";
import { flipBit, segmentFiles, zeroRange } from "../support/surgery.js";
import { tempDir } from "../support/temp.js";

/** Small segments, so that a few hundred puts fill several of them. */
const OPTIONS: StoreOptions = { segmentBytes: 16 * 1024, batchBytesMax: 4096, checkpointEveryBytes: 0 };

const keyFor = (i: number) => `key-${String(i).padStart(4, "0")}`;
/** Each value is unique in the log, so a test can find its record's bytes. Key i is written at LSN i + 1. */
const valueFor = (i: number) => `value-${String(i).padStart(4, "0")}-${"x".repeat(60)}`;

async function putRange(store: Store, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await store.put(keyFor(i), valueFor(i));
}

/** The log segments of the store and the first LSN of each (from their names). */
async function segmentsOf(dir: string): Promise<{ path: string; firstLsn: number }[]> {
  return (await segmentFiles(join(dir, "log"))).map((path) => ({ path, firstLsn: Number(path.slice(-24, -4)) }));
}

/** Flips a bit in the value of key i (written at LSN i + 1), in whichever segment holds it; resolves that segment. */
async function flipValueOf(dir: string, i: number): Promise<string> {
  const marker = Buffer.from(`value-${String(i).padStart(4, "0")}-`);
  for (const { path } of await segmentsOf(dir)) {
    const at = (await readFile(path)).indexOf(marker);
    if (at < 0) continue;
    // In the value's padding, so that the marker still finds the record (and a second flip undoes the first).
    await flipBit(path, at + marker.byteLength + 5, 2);
    return path;
  }
  throw new Error(`no record holds ${marker.toString()}`);
}

async function assertEveryKey(store: Store, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    assert.deepEqual(store.getSync(keyFor(i)), { value: valueFor(i), version: i + 1 }, keyFor(i));
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function rejectsWithCorruption(open: Promise<Store>): Promise<void> {
  await assert.rejects(open, (error: unknown) => isLogbookError(error, "LOGBOOK_CORRUPTION"));
}

describe("damage in log records below the newest checkpoint", localLogOnly("flips bits in its segment files"), () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  /** 400 keys over several segments; checkpoints at LSN 200 and 400 (the last record, as a shutdown leaves it). */
  async function storeCheckpointedAtItsEnd(): Promise<void> {
    await using store = await Store.open(dir, OPTIONS);
    await putRange(store, 0, 200);
    await store.checkpoint();
    await putRange(store, 200, 400);
    await store.checkpoint();
    assert.ok((await segmentsOf(dir)).length >= 3, "the log spans several segments");
  }

  test("a flipped bit in a record of the newest segment below the checkpoint is reported, not fatal, and freed by the next checkpoint", async () => {
    await storeCheckpointedAtItsEnd();
    const damaged = await flipValueOf(dir, 395);
    const newest = (await segmentsOf(dir)).at(-1)?.path;
    assert.equal(damaged, newest, "the flipped record is in the newest segment");

    {
      await using store = await Store.open(dir, OPTIONS);
      await assertEveryKey(store, 400);
      const found = store.recovery.damagedBelowCheckpoint;
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0]?.file, damaged);
      assert.equal(found[0]?.fromLsn, 396);
      const { registry } = createMetrics(store, { inFlight: { writes: 0, bytes: 0 } } as unknown as Admission, {
        processMetrics: false,
      });
      assert.match(
        await registry.getSingleMetricAsString("logbook_log_damage_below_checkpoint_total"),
        /^logbook_log_damage_below_checkpoint_total 1$/m,
      );
      // Nothing new is written after the damage: the store goes on in a new segment.
      await store.put("after", "damage");
      await store.checkpoint();
      assert.equal(await exists(damaged), false, "the damaged segment is freed by the next checkpoint");
    }
    await using store = await Store.open(dir, OPTIONS);
    await assertEveryKey(store, 400);
    assert.deepEqual(store.getSync("after"), { value: "damage", version: 401 });
    assert.deepEqual(store.recovery.damagedBelowCheckpoint, []);
  });

  /**
   * One checkpoint, some records after the first of its segment, which more writes then seal; a
   * flipped bit in that segment three records before the checkpoint. Resolves the checkpoint's
   * LSN and the damaged segment.
   */
  async function flipBelowCheckpointInSealedSegment(): Promise<{ checkpointLsn: number; damaged: string }> {
    let checkpointLsn = 0;
    {
      await using store = await Store.open(dir, OPTIONS);
      await putRange(store, 0, 300);
      let next = 300;
      const newestFirst = async () => (await segmentsOf(dir)).at(-1)?.firstLsn ?? 1;
      while (next < (await newestFirst()) + 10) await putRange(store, next, ++next);
      checkpointLsn = (await store.checkpoint())?.lsn ?? 0;
      await putRange(store, next, next + 200);
    }
    const segments = await segmentsOf(dir);
    const holding = segments.filter((s) => s.firstLsn <= checkpointLsn).at(-1);
    assert.ok(holding !== undefined && holding !== segments.at(-1), "the checkpoint's segment is sealed");
    const damaged = await flipValueOf(dir, checkpointLsn - 4); // LSN checkpointLsn - 3
    assert.equal(damaged, holding.path);
    return { checkpointLsn, damaged };
  }

  test("a flipped bit below the checkpoint in the sealed segment replay starts in is skipped", async () => {
    const { checkpointLsn, damaged } = await flipBelowCheckpointInSealedSegment();

    await using store = await Store.open(dir, OPTIONS);
    assert.equal(store.getSync(keyFor(checkpointLsn - 4))?.version, checkpointLsn - 3);
    assert.equal(store.getSync(keyFor(checkpointLsn + 100))?.version, checkpointLsn + 101);
    const found = store.recovery.damagedBelowCheckpoint;
    assert.deepEqual(
      found.map((d) => [d.file, d.fromLsn]),
      [[damaged, checkpointLsn - 3]],
    );
  });

  test("a flipped bit below a checkpoint that cannot be loaded fails open with LOGBOOK_CORRUPTION: replay from LSN 1 needs it", async () => {
    const { checkpointLsn } = await flipBelowCheckpointInSealedSegment();
    await flipBit(join(dir, `checkpoint-${String(checkpointLsn).padStart(20, "0")}.dat`), 200);
    await assert.rejects(Store.open(dir, OPTIONS), (error: unknown) => {
      assert.ok(isLogbookError(error, "LOGBOOK_CORRUPTION"), String(error));
      assert.equal(error.lsn, checkpointLsn - 3, error.message);
      return true;
    });
  });

  test("a flipped bit in a record after the checkpoint still fails open with LOGBOOK_CORRUPTION", async () => {
    {
      await using store = await Store.open(dir, OPTIONS);
      await putRange(store, 0, 200);
      await store.checkpoint();
      await putRange(store, 200, 400);
    }
    await flipValueOf(dir, 300);
    await rejectsWithCorruption(Store.open(dir, OPTIONS));
    await flipValueOf(dir, 300); // undone
    await flipValueOf(dir, 398); // the newest segment
    await rejectsWithCorruption(Store.open(dir, OPTIONS));
  });

  test("more than one damaged bit below the checkpoint (perhaps a misdirected write) still fails open with LOGBOOK_CORRUPTION", async () => {
    await storeCheckpointedAtItsEnd();
    const marker = Buffer.from(valueFor(395));
    const newest = (await segmentsOf(dir)).at(-1)?.path as string;
    const at = (await readFile(newest)).indexOf(marker);
    assert.ok(at > 0);
    await zeroRange(newest, at + 16, 24);
    await rejectsWithCorruption(Store.open(dir, OPTIONS));
  });

  test("damage after the previous checkpoint fails open with LOGBOOK_CORRUPTION when the newest checkpoint cannot be loaded", async () => {
    await storeCheckpointedAtItsEnd();
    await flipValueOf(dir, 395);
    const newestCheckpoint = (await readdir(dir))
      .filter((name) => name.startsWith("checkpoint-"))
      .sort()
      .at(-1) as string;
    await flipBit(join(dir, newestCheckpoint), 200);
    await assert.rejects(Store.open(dir, OPTIONS), (error: unknown) => {
      assert.ok(isLogbookError(error, "LOGBOOK_CORRUPTION"), String(error));
      assert.match(error.message, /from LSN 396 are damaged.*checkpoint at LSN 200 needs them/);
      return true;
    });
  });
});
