/**
 * bench:store's recovery figure: a log of a given size written quickly, then the time Logbook's
 * Store takes to open it again (records/s, MB/s), and a full verify scan of the log.
 */
import { spawnSync } from "node:child_process";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { Log, Store } from "../../src/index.js";
import { keyFor, VALUE } from "./store-systems.js";

export async function measureRecovery(root: string, mebibytes: number): Promise<Record<string, number>> {
  const dir = join(root, "recovery");
  {
    // Load quickly with sync "none"; what is measured is the reopen.
    const db = await Store.open(dir, { sync: "none", valueEncoding: "utf8", checkpointEveryBytes: 0 });
    const target = mebibytes * 1024 * 1024;
    let i = 0;
    while (db.logStats.recordBytes < target) {
      const batch: Promise<number>[] = [];
      for (let j = 0; j < 1000; j++, i++) batch.push(db.put(keyFor(i % 1_000_000), VALUE));
      await Promise.all(batch);
    }
    await db.close();
  }
  const logBytes = statDirBytes(join(dir, "log"));
  const startedMs = performance.now();
  const db = await Store.open(dir, { valueEncoding: "utf8", checkpointEveryBytes: 0 });
  const seconds = (performance.now() - startedMs) / 1000;
  const report = db.recovery;
  await db.close();
  const verifyStarted = performance.now();
  const log = await Log.open(join(dir, "log"), { readOnly: true, verifyOnOpen: "full" });
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  const scanned = log.recovery.scannedBytes;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    logBytes,
    records: report.recordsReplayed,
    openSeconds: seconds,
    recordsPerSecond: report.recordsReplayed / seconds,
    megabytesPerSecond: report.bytesReplayed / 1e6 / seconds,
    logMegabytesPerSecond: scanned / 1e6 / seconds,
    verifyGigabytesPerSecond: scanned / 1e9 / verifySeconds,
  };
}

function statDirBytes(dir: string): number {
  let total = 0;
  for (const name of (spawnSync("ls", [dir], { encoding: "utf8" }).stdout ?? "").split("\n")) {
    if (name) total += statSync(join(dir, name)).size;
  }
  return total;
}
