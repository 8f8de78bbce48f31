import assert from "node:assert/strict";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { test } from "node:test";
import { openStore } from "../support/store-log.js";
import { tempDir } from "../support/temp.js";

const KEYS = 300_000;
const KEYS_PER_BATCH = 1_000;
/** Puts in flight while the checkpoint runs. */
const WRITERS = 8;
/** Generous: a checkpoint that blocked the loop for its whole run would take several times this. */
const STALL_MS_MAX = 1_000;

test("a checkpoint of 300k keys does not block writes: puts are acknowledged while it runs, the loop never stalls for a second", async (t) => {
  const { path, cleanup } = await tempDir();
  t.after(cleanup);
  await using db = await openStore(path, { checkpointEveryBytes: 0 });
  for (let first = 0; first < KEYS; first += KEYS_PER_BATCH) {
    await db.batch(
      Array.from({ length: KEYS_PER_BATCH }, (_, i) => ({
        type: "put" as const,
        key: `key-${String(first + i).padStart(8, "0")}`,
        value: { n: first + i, pad: "v".repeat(24) },
      })),
    );
  }
  assert.equal(db.stats().keys, KEYS);

  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const startedMs = performance.now();
  let done = false;
  const checkpoint = db.checkpoint().finally(() => {
    done = true;
  });
  let acknowledged = 0;
  let next = 0;
  const writer = async () => {
    while (!done) {
      await db.put(`during-${next++}`, next);
      if (!done) acknowledged++;
    }
  };
  await Promise.all([checkpoint, ...Array.from({ length: WRITERS }, writer)]);
  const checkpointMs = performance.now() - startedMs;
  delay.disable();
  const stallMs = delay.max / 1e6;
  const info = await checkpoint;
  t.diagnostic(
    `checkpoint of ${info?.entries} keys (${info?.bytes} bytes) took ${checkpointMs.toFixed(0)} ms; ` +
      `${acknowledged} puts acknowledged meanwhile; longest event-loop delay ${stallMs.toFixed(1)} ms, ` +
      `p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms`,
  );
  assert.equal(info?.entries, KEYS);
  assert.ok(acknowledged > 0, "puts were acknowledged while the checkpoint ran");
  assert.ok(stallMs < STALL_MS_MAX, `the longest event-loop stall was ${stallMs.toFixed(1)} ms`);
});
