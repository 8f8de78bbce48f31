/**
 * `logbook log repair` on a store's log: cutting the log alone at damage the store's checkpoint
 * covers would end it before that checkpoint and leave the store unopenable, so it is refused,
 * in the dry run as with --yes, and nothing is changed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Store } from "../../src/store/store.js";
import { flipBit, segmentFiles } from "../support/surgery.js";
import { tempDir } from "../support/temp.js";
import { hashTree } from "../support/tree-hash.js";

// The CLI is tested as users run it: the built executable (npm test builds first).
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const OPTIONS = { segmentBytes: 16 * 1024, batchBytesMax: 4096, checkpointEveryBytes: 0 };
const KEYS = 300;

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const valueFor = (i: number) => `value-${String(i).padStart(4, "0")}-${"x".repeat(60)}`;

describe("logbook log repair on a store's log", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
    {
      await using store = await Store.open(dir, OPTIONS);
      for (let i = 0; i < KEYS / 2; i++) await store.put(`key-${i}`, valueFor(i));
      await store.checkpoint();
      for (let i = KEYS / 2; i < KEYS; i++) await store.put(`key-${i}`, valueFor(i));
      await store.checkpoint();
    }
    // A flipped bit in a record the newest checkpoint holds (LSN 296 of 300), in the newest segment.
    const newest = (await segmentFiles(join(dir, "log"))).at(-1) as string;
    const marker = Buffer.from(valueFor(295));
    const at = (await readFile(newest)).indexOf(marker);
    assert.ok(at > 0, "the record is in the newest segment");
    await flipBit(newest, at + marker.byteLength - 8, 3);
  });
  afterEach(async () => {
    await cleanup();
  });

  test("is refused with exit code 2, naming the store, in the dry run and with --yes, and changes nothing", async () => {
    const before = await hashTree(dir);
    for (const args of [[], ["--yes"], ["--yes", "--json"]]) {
      const result = run("log", "repair", join(dir, "log"), "--mode", "point-in-time", ...args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /is the log of the store in .*Nothing was changed.*\[LOGBOOK_INVALID_ARGUMENT\]\n$/s);
      assert.match(result.stderr, /logbook store inspect/);
    }
    assert.deepEqual(await hashTree(dir), before, "nothing in the store's directory changed");

    // The store itself opens, with every key: the damage is in records its checkpoint holds.
    await using store = await Store.open(dir, OPTIONS);
    for (let i = 0; i < KEYS; i++) assert.deepEqual(store.getSync(`key-${i}`), { value: valueFor(i), version: i + 1 });
    assert.equal(store.recovery.damagedBelowCheckpoint.length, 1);
  });
});
