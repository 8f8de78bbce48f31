/**
 * A fallback to an older checkpoint cuts the stream data a newer one needs: the open first
 * rewrites the manifest without the newer one, so that no later open tries it (simulated disk).
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { test } from "node:test";
import { isLogbookError, Store, type StoreOptions } from "../../src/index.js";
import { readManifest } from "../../src/store/manifest.js";
import { SimulatedDisk, wrapFileSystem } from "../../src/testing/index.js";

const DIR = "/data/store";

function options(disk: SimulatedDisk, fileSystem = disk.view()): StoreOptions {
  return { segmentBytes: 8192 + 64, batchBytesMax: 4096, checkpointEveryBytes: 0, clock: disk.clock, fileSystem };
}

/** The disk, through which every read of a file whose name is `name` fails with EIO (a read error that may not recur). */
function failingReadsOf(disk: SimulatedDisk, name: string) {
  const fs = wrapFileSystem(disk.view());
  const open = fs.open;
  fs.open = async (path, mode) => {
    const handle = await open(path, mode);
    if (basename(path) !== name) return handle;
    const eio = Object.assign(new Error("EIO: i/o error, read"), { code: "EIO", syscall: "read" });
    return { ...handle, read: () => Promise.reject(eio) };
  };
  return fs;
}

async function add(db: Store, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) await db.streams.add("s", { n: String(i), pad: "x".repeat(200) }, { id: `${i}-0` });
}

/** Two checkpoints with streams (the newest one's data past the older one's end), and entries after both. */
async function twoCheckpoints(disk: SimulatedDisk): Promise<{ older: string; newest: string }> {
  const db = await Store.open(DIR, options(disk));
  await add(db, 1, 10);
  const older = (await db.checkpoint())?.file as string;
  await add(db, 11, 20);
  const newest = (await db.checkpoint())?.file as string;
  await add(db, 21, 25);
  await db.close();
  return { older, newest };
}

const ids = async (db: Store) => (await db.streams.range("s")).map((entry) => entry.id);
const expected = (n: number) => Array.from({ length: n }, (_, i) => `${i + 1}-0`);

test("a fallback past a checkpoint with streams drops it from the manifest before the stream data is cut", async () => {
  const disk = new SimulatedDisk(3);
  const { older, newest } = await twoCheckpoints(disk);

  const fallback = await Store.open(DIR, options(disk, failingReadsOf(disk, newest)));
  assert.deepEqual(
    fallback.recovery.skippedCheckpoints.map((s) => s.file),
    [newest],
  );
  assert.equal(fallback.recovery.skippedCheckpoints[0]?.code, "LOGBOOK_IO");
  assert.deepEqual(await ids(fallback), expected(25));
  const manifest = await readManifest(disk.view(), DIR);
  assert.deepEqual(
    manifest?.checkpoints.map((c) => c.file),
    [older],
  );
  // The open succeeded: the skipped checkpoint's files are leftovers now.
  const names = disk.paths().map((path) => basename(path));
  assert.ok(!names.includes(newest) && !names.includes(newest.replace("checkpoint-", "streams-").replace(".dat", ".json")));
  await fallback.close();
  // Replay rewrote the data past the older end unsynced; a power cut loses it.
  disk.crash("lose-all");

  // The read error is gone: the open must not try the newest checkpoint, whose data was cut.
  const reopened = await Store.open(DIR, options(disk));
  assert.deepEqual(reopened.recovery.skippedCheckpoints, []);
  assert.equal(reopened.recovery.checkpointLsn > 0, true);
  assert.deepEqual(await ids(reopened), expected(25));
  await add(reopened, 26, 30);
  await reopened.checkpoint();
  await reopened.close();
  disk.crash("lose-all");
  const last = await Store.open(DIR, options(disk));
  assert.deepEqual(await ids(last), expected(30));
  await last.close();
});

test("a power cut during the fallback open leaves a manifest whose every checkpoint still loads", async () => {
  for (let at = 1; at < 120; at += 4) {
    const disk = new SimulatedDisk(40 + at);
    const { newest } = await twoCheckpoints(disk);
    disk.crashAfter(at);
    await Store.open(DIR, options(disk, failingReadsOf(disk, newest))).then(
      (db) => db.close(),
      (error: unknown) => assert.ok(isLogbookError(error), String(error)),
    );
    if (disk.crashPending) disk.crash();
    const reopened = await Store.open(DIR, options(disk));
    assert.deepEqual(await ids(reopened), expected(25), `a cut after ${at} operations`);
    await reopened.close();
  }
});

test("a fallback in a store without streams keeps the manifest as it was", async () => {
  const disk = new SimulatedDisk(4);
  const db = await Store.open(DIR, options(disk));
  await db.put("a", "1");
  const older = (await db.checkpoint())?.file as string;
  await db.put("a", "2");
  const newest = (await db.checkpoint())?.file as string;
  await db.close();
  const fallback = await Store.open(DIR, options(disk, failingReadsOf(disk, newest)));
  assert.equal(fallback.getSync("a")?.value, "2");
  await fallback.close();
  assert.deepEqual(
    (await readManifest(disk.view(), DIR))?.checkpoints.map((c) => c.file),
    [newest, older],
  );
});
