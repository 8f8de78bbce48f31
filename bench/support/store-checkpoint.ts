/**
 * bench:store's checkpoint figure: the time and size of a checkpoint of a given number of
 * keys, then the heap a store reopened from it holds per key.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/index.js";
import { keyFor, VALUE_BYTES } from "./store-systems.js";

/** Distinct value strings per key, as a store holds after recovery (no shared string). */
function valueFor(i: number): string {
  return `${i}:`.padEnd(VALUE_BYTES, "v");
}

export async function measureCheckpointAndMemory(root: string, keys: number): Promise<Record<string, number>> {
  const dir = join(root, "checkpoint");
  let checkpointSeconds = 0;
  let checkpointBytes = 0;
  {
    const db = await Store.open(dir, { sync: "none", valueEncoding: "utf8", checkpointEveryBytes: 0 });
    for (let i = 0; i < keys; i += 1000) {
      const batch: Promise<number>[] = [];
      for (let j = i; j < Math.min(keys, i + 1000); j++) batch.push(db.put(keyFor(j), valueFor(j)));
      await Promise.all(batch);
    }
    const started = performance.now();
    const info = await db.checkpoint();
    checkpointSeconds = (performance.now() - started) / 1000;
    checkpointBytes = info?.bytes ?? 0;
    await db.close();
  }
  // Memory of the state as a recovered store holds it: reopened from the checkpoint.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const loadStarted = performance.now();
  const db = await Store.open(dir, { valueEncoding: "utf8", checkpointEveryBytes: 0 });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  gc?.();
  const heapBytes = process.memoryUsage().heapUsed - heapBefore;
  const keyValueBytes = db.stats().keyValueBytes;
  const loaded = db.stats().keys;
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    keys: loaded,
    checkpointSeconds,
    checkpointBytes,
    loadSeconds,
    heapBytesPerKey: heapBytes / loaded,
    keyValueBytesPerKey: keyValueBytes / loaded,
    overheadBytesPerKey: (heapBytes - keyValueBytes) / loaded,
  };
}
