/**
 * The store under disk faults (simulated disk: fdatasync EIO, write EIO, ENOSPC short writes,
 * read EIO) during concurrent puts, batches and checkpoints. On every seed: no write is
 * acknowledged after the log failed, every error is typed, and after the faults stop the
 * store reopens cleanly (with or without a power cut) holding every acknowledged write.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Store, type StoreOptions } from "../../src/index.js";
import { DISK_FAULTS, SimulatedDisk, seededRandom } from "../../src/testing/index.js";
import { assertTyped } from "../support/typed.js";

const SEEDS = Number(process.env.LOGBOOK_FAULT_SEEDS ?? 700) >> 1;
const DIR = "/data/store";

async function runSeed(seed: number, counts: { acknowledged: number; checkpoints: number; failedCheckpoints: number }) {
  const disk = new SimulatedDisk(seed);
  const random = seededRandom(seed ^ 0x5f0e);
  const options: StoreOptions = { segmentBytes: 8192 + 64, batchBytesMax: 4096, checkpointEveryBytes: 0, valueEncoding: "utf8" };
  /** The last acknowledged write of each key: it, or a later write, must be what a reopen shows. */
  const acknowledged = new Map<string, { value: string; version: number }>();
  const check = async (db: Store, where: string) => {
    for (const [key, want] of acknowledged) {
      const entry = db.getSync(key);
      assert.ok(entry !== undefined, `${where}: acknowledged ${key} lost`);
      assert.ok(entry.version >= want.version, `${where}: ${key} went back to version ${entry.version} < ${want.version}`);
      if (entry.version === want.version) assert.equal(entry.value, want.value, `${where}: ${key} intact`);
    }
  };
  for (let round = 0; round < 3; round++) {
    const where = `seed ${seed} round ${round}`;
    const db = await Store.open(DIR, { ...options, fileSystem: disk.view() });
    await check(db, where);
    disk.injectFaults(0.002 + random() * 0.02, DISK_FAULTS);
    let failed = false;
    const writer = async (w: number) => {
      for (let i = 0; i < 40 && !failed; i++) {
        const key = `k${w}-${i % 6}`;
        const value = `r${round}-w${w}-${i}`;
        try {
          if (i % 10 === 9) {
            await db.checkpoint();
            counts.checkpoints++;
            continue;
          }
          const version =
            i % 4 === 3
              ? await db.batch([
                  { type: "put", key, value },
                  { type: "put", key: `${key}-pair`, value },
                ])
              : await db.put(key, value);
          assert.equal(db.failure, undefined, `${where}: a write was acknowledged after the log failed`);
          acknowledged.set(key, { value, version });
          if (i % 4 === 3) acknowledged.set(`${key}-pair`, { value, version });
          counts.acknowledged++;
        } catch (error) {
          assertTyped(error, `${where}: write or checkpoint`);
          if (i % 10 === 9) counts.failedCheckpoints++;
          if (db.failure !== undefined) failed = true;
        }
      }
    };
    await Promise.all(Array.from({ length: 1 + Math.floor(random() * 6) }, (_, w) => writer(w)));
    await db.close().catch((error: unknown) => assertTyped(error, `${where}: close`));
    disk.injectFaults(0);
    if (random() < 0.5) disk.crash();
  }
  // After the faults: a clean reopen (ENOSPC, EIO and all), with everything acknowledged.
  const final = await Store.open(DIR, { ...options, fileSystem: disk.view() });
  await check(final, `seed ${seed} final`);
  await final.close();
  return disk.faultsInjected;
}

test(`the store under disk faults: ${SEEDS} seeds of puts, batches and checkpoints`, async () => {
  const counts = { acknowledged: 0, checkpoints: 0, failedCheckpoints: 0 };
  let faults = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    try {
      const injected = await runSeed(seed, counts);
      faults += Object.values(injected).reduce((a, b) => a + b, 0);
    } catch (error) {
      throw new Error(`store seed ${seed} failed: ${(error as Error).message}`, { cause: error });
    }
  }
  process.stdout.write(
    `# store faults: ${faults} injected over ${SEEDS} seeds; ${counts.acknowledged} acknowledged writes checked; ` +
      `${counts.checkpoints} checkpoints written, ${counts.failedCheckpoints} failed with a typed error\n`,
  );
});
