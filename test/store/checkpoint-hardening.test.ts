import assert from "node:assert/strict";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { type FileHandle, type FileSystem, isLogbookError, NodeFileSystem, type StoreOptions } from "../../src/index.js";
import { writeManifest } from "../../src/store/manifest.js";
import { wrapFileSystem } from "../../src/testing/index.js";
import { loseStoreLog, openStore, testLog } from "../support/store-log.js";
import { flipBit } from "../support/surgery.js";
import { tempDir } from "../support/temp.js";
import { hashTree } from "../support/tree-hash.js";

const SMALL: StoreOptions = { segmentBytes: 16 * 1024 + 64, batchBytesMax: 16 * 1024, checkpointEveryBytes: 0 };

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: injected fault, ${syscall}`) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = syscall;
  return error;
}

/** A file system on which every read of a file whose name passes `fails` fails with EIO. */
function failingReads(fails: (name: string) => boolean): FileSystem {
  const fs = wrapFileSystem(new NodeFileSystem());
  const open = fs.open;
  fs.open = async (path, mode) => {
    const handle = await open(path, mode);
    if (!fails(basename(path))) return handle;
    const failing: FileHandle = { ...handle, read: () => Promise.reject(errno("EIO", "read")) };
    return failing;
  };
  return fs;
}

async function checkpointFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => /^checkpoint-\d{20}\.dat$/.test(name)).sort();
}

/** Writes 3 rounds of 100 keys with a checkpoint after each: the log is freed up to the second. */
async function storeWithTruncatedLog(dir: string): Promise<void> {
  await using db = await openStore(dir, SMALL);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 100; i++) await db.put(`k${i}`, `${round}${"v".repeat(300)}`);
    await db.checkpoint();
  }
  assert.ok(db.logStats.firstLsn > 1, "the log was truncated");
}

describe("checkpoint hardening", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("a checkpoint with no writes since the newest one leaves the manifest, the checkpoints and the log alone", async () => {
    await using db = await openStore(dir, SMALL);
    for (let i = 0; i < 20; i++) await db.put(`k${i}`, i);
    await db.checkpoint();
    for (let i = 20; i < 40; i++) await db.put(`k${i}`, i);
    const newest = await db.checkpoint();
    const before = await hashTree(dir);
    const again = await db.checkpoint();
    assert.deepEqual(again, newest, "it resolves with the newest checkpoint");
    assert.deepEqual(await hashTree(dir), before);
    assert.equal(db.stats().checkpoints, 2);
  });

  test("idle restarts that checkpoint on exit keep the fallback: a flipped bit in the newest checkpoint still opens", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 20; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
      for (let i = 20; i < 40; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
    }
    for (let restart = 0; restart < 3; restart++) {
      await using db = await openStore(dir, SMALL);
      await db.checkpoint();
    }
    const manifest = await readFile(join(dir, "MANIFEST"), "utf8");
    assert.match(manifest, /checkpoint-00000000000000000040\.dat[\s\S]*checkpoint-00000000000000000020\.dat/);
    assert.deepEqual(await checkpointFiles(dir), ["checkpoint-00000000000000000020.dat", "checkpoint-00000000000000000040.dat"]);
    await flipBit(join(dir, "checkpoint-00000000000000000040.dat"), 100);
    await using db = await openStore(dir, SMALL);
    assert.equal(db.recovery.checkpointLsn, 20);
    assert.equal(db.stats().keys, 40);
    assert.equal(db.getSync("k39")?.value, 39);
  });

  test("a checkpoint at the LSN of a newest checkpoint that failed to load replaces it, keeping the one loaded as fallback", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 20; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
      for (let i = 20; i < 40; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
    }
    await flipBit(join(dir, "checkpoint-00000000000000000040.dat"), 100);
    {
      await using db = await openStore(dir, SMALL);
      assert.equal(db.recovery.checkpointLsn, 20);
      const info = await db.checkpoint();
      assert.equal(info?.lsn, 40);
    }
    await using db = await openStore(dir, SMALL);
    assert.equal(db.recovery.checkpointLsn, 40, "the rewritten checkpoint loads");
    assert.deepEqual(db.recovery.skippedCheckpoints, []);
    assert.equal(db.stats().keys, 40);
  });

  test("an EIO reading the newest checkpoint falls back to the previous one, replays the log from there and says so", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 20; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
      for (let i = 20; i < 40; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
      await db.put("after", 1);
    }
    await using db = await openStore(dir, {
      ...SMALL,
      fileSystem: failingReads((name) => name === "checkpoint-00000000000000000040.dat"),
    });
    assert.equal(db.recovery.checkpointLsn, 20);
    assert.equal(db.recovery.recordsReplayed, 21);
    assert.equal(db.recovery.skippedCheckpoints.length, 1);
    const skipped = db.recovery.skippedCheckpoints[0];
    assert.equal(skipped?.file, "checkpoint-00000000000000000040.dat");
    assert.equal(skipped?.code, "LOGBOOK_IO");
    assert.match(skipped?.reason ?? "", /EIO/);
    assert.equal(db.stats().keys, 41);
    assert.equal(db.getSync("k39")?.value, 39);
  });

  test("a newest checkpoint file that is missing falls back to the previous one", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 20; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
      for (let i = 20; i < 40; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
    }
    await rm(join(dir, "checkpoint-00000000000000000040.dat"));
    await using db = await openStore(dir, SMALL);
    assert.equal(db.recovery.checkpointLsn, 20);
    assert.equal(db.recovery.skippedCheckpoints[0]?.file, "checkpoint-00000000000000000040.dat");
    assert.equal(db.stats().keys, 40);
  });

  test("with every checkpoint unreadable and the log truncated, open fails with the disk's error, typed", async () => {
    await storeWithTruncatedLog(dir);
    const fs = failingReads((name) => /^checkpoint-\d{20}\.dat$/.test(name));
    const before = await hashTree(dir);
    await assert.rejects(openStore(dir, { ...SMALL, fileSystem: fs }), (e) => isLogbookError(e, "LOGBOOK_IO"));
    assert.deepEqual(await hashTree(dir), before);
  });

  test("an open refused for a missing MANIFEST deletes nothing: the directory is byte-for-byte as it was", async () => {
    await storeWithTruncatedLog(dir);
    await rm(join(dir, "MANIFEST"));
    await writeFile(join(dir, "MANIFEST.tmp"), "half a manifest");
    await writeFile(join(dir, "checkpoint-00000000000000000400.dat.tmp"), "half a checkpoint");
    const before = await hashTree(dir);
    assert.ok((await checkpointFiles(dir)).length === 2);
    await assert.rejects(openStore(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
    assert.deepEqual(await hashTree(dir), before);
  });

  test("an open refused for a damaged MANIFEST or damaged checkpoints deletes nothing", async () => {
    await storeWithTruncatedLog(dir);
    await writeFile(join(dir, "checkpoint-00000000000000000001.dat"), "a checkpoint no manifest names");
    await writeFile(join(dir, "checkpoint-00000000000000000400.dat.tmp"), "half a checkpoint");
    for (const name of await checkpointFiles(dir)) await flipBit(join(dir, name), 70);
    const before = await hashTree(dir);
    await assert.rejects(openStore(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
    assert.deepEqual(await hashTree(dir), before);
    await flipBit(join(dir, "MANIFEST"), 20);
    const damagedManifest = await hashTree(dir);
    await assert.rejects(openStore(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
    assert.deepEqual(await hashTree(dir), damagedManifest);
  });

  test("an open refused for a lost log creates no new log in its place", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 10; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
    }
    await loseStoreLog(dir);
    const before = await hashTree(dir);
    await assert.rejects(
      openStore(dir, SMALL),
      (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && /ends at LSN 0/.test(e.message),
    );
    assert.deepEqual(await hashTree(dir), before);
  });

  test("an open that succeeds removes the leftovers of interrupted checkpoints, and only the store's own", async () => {
    {
      await using db = await openStore(dir, SMALL);
      await db.put("k", 1);
    }
    await writeFile(join(dir, "checkpoint-00000000000000000001.dat.tmp"), "partial");
    await writeFile(join(dir, "MANIFEST.tmp"), "partial");
    await writeFile(join(dir, "checkpoint-00000000000000000001.dat"), "never named in a manifest");
    await writeFile(join(dir, "notes.tmp"), "someone else's file");
    await using db = await openStore(dir, SMALL);
    // The log's own directory is the log's business (the memory log keeps none).
    assert.deepEqual((await readdir(dir)).sort(), testLog === "local" ? ["log", "notes.tmp"] : ["notes.tmp"]);
    assert.equal(db.getSync("k")?.value, 1);
  });

  test("a manifest naming a file other than its checkpoint's is refused: no path it names is ever unlinked", async () => {
    {
      await using db = await openStore(dir, SMALL);
      for (let i = 0; i < 20; i++) await db.put(`k${i}`, i);
      await db.checkpoint();
    }
    const victim = join(dir, "log", "victim.dat");
    await mkdir(dirname(victim), { recursive: true });
    await writeFile(victim, "not the store's to delete");
    const [newest] = JSON.parse((await readFile(join(dir, "MANIFEST"), "utf8")).split("\ncrc32")[0] as string).checkpoints;
    await writeManifest(new NodeFileSystem(), dir, {
      format: 1,
      checkpoints: [newest, { file: "log/victim.dat", lsn: 10, entries: 10, bytes: 100 }],
    });
    await assert.rejects(openStore(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && /victim/.test(e.message));
    assert.equal(await readFile(victim, "utf8"), "not the store's to delete");
  });

  test("creating a store fsyncs the parent of every directory it created, before the first write is acknowledged", async () => {
    const synced: string[] = [];
    const inner = new NodeFileSystem();
    const fs = wrapFileSystem(inner, {
      syncDirectory: (directory) => {
        synced.push(directory);
        return inner.syncDirectory(directory);
      },
    });
    const path = join(dir, "a", "b", "store");
    await using db = await openStore(path, { ...SMALL, fileSystem: fs });
    await db.put("k", 1);
    for (const created of [join(dir, "a"), join(dir, "a", "b"), path]) {
      assert.ok(synced.includes(dirname(created)), `${dirname(created)} was synced (synced: ${synced.join(", ")})`);
    }
  });
});
