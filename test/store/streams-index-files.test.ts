import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { Store } from "../../src/store/index.js";
import type { StreamEntry } from "../../src/store/stream-types.js";
import { openStore } from "../support/store-log.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "logbook-stream-index-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function all(store: Store, key: string): Promise<StreamEntry[]> {
  const out: StreamEntry[] = [];
  for await (const entry of store.streams.entries(key)) out.push(entry);
  return out;
}

async function indexFiles(): Promise<string[]> {
  return (await readdir(join(dir, "streams"))).filter((n) => n.startsWith("index-")).map((n) => join(dir, "streams", n));
}

/** Two interleaved streams with deletes and trims, checkpointed twice. */
async function fill(store: Store): Promise<void> {
  for (let i = 1; i <= 3000; i++) {
    await Promise.all([
      store.streams.add("a", { n: String(i), text: "é".repeat(i % 5) }, { id: `${i}-1` }),
      i % 3 === 0 ? store.streams.add("b", [["k", `v${i}`]], { id: `${i}-0` }) : undefined,
    ]);
    if (i === 1500) await store.checkpoint();
  }
  await store.streams.delete("a", ["1700-1", "2999-1"]);
  await store.streams.trim("a", { maxLength: 2500 });
  await store.streams.trim("b", { minId: "600" });
  await store.checkpoint();
}

test("a reopened store loads its streams from the index files: the same entries and IDs, trims and deletes kept", async () => {
  let before: StreamEntry[][];
  {
    const store = await openStore(dir);
    await fill(store);
    before = [await all(store, "a"), await all(store, "b")];
    await store.close();
  }
  assert.ok((await indexFiles()).length > 0);
  const store = await openStore(dir);
  try {
    assert.deepEqual([await all(store, "a"), await all(store, "b")], before);
    assert.equal(store.streams.length("a"), 2500);
    assert.equal(store.recovery.recordsReplayed, 0);
    // Adds after the reopen go on from the same place, and survive the next reopen.
    await store.streams.add("a", { n: "new" }, { id: "4000-0" });
  } finally {
    await store.close();
  }
  const again = await openStore(dir);
  try {
    assert.equal((await all(again, "a")).at(-1)?.id, "4000-0");
    assert.equal(again.streams.length("a"), 2501);
  } finally {
    await again.close();
  }
});

test("index rows past the checkpoint's recorded length (a persist whose checkpoint was never installed) are cut at open", async () => {
  let expected: StreamEntry[];
  {
    const store = await openStore(dir);
    await fill(store);
    expected = await all(store, "a");
    await store.close();
  }
  const [file] = await indexFiles();
  const bytes = await readFile(file as string);
  // What a later persist appended before the crash: a chunk the manifest's checkpoint does not count.
  await writeFile(file as string, Buffer.concat([bytes, bytes.subarray(0, 16 + 32 * 3)]));
  const store = await openStore(dir);
  try {
    assert.deepEqual(await all(store, "a"), expected);
    assert.equal((await readFile(file as string)).byteLength, bytes.byteLength);
  } finally {
    await store.close();
  }
});

test("a damaged or shortened index file is not trusted: the open reads that data file instead, and gives the same entries", async () => {
  let expected: StreamEntry[][];
  {
    const store = await openStore(dir);
    await fill(store);
    expected = [await all(store, "a"), await all(store, "b")];
    await store.close();
  }
  const [file] = await indexFiles();
  const bytes = await readFile(file as string);
  bytes[100] = (bytes[100] as number) ^ 0x04;
  await writeFile(file as string, bytes);
  let store = await openStore(dir);
  try {
    assert.deepEqual([await all(store, "a"), await all(store, "b")], expected);
    assert.deepEqual(await indexFiles(), [], "the damaged index file is removed");
    await store.checkpoint();
  } finally {
    await store.close();
  }
  store = await openStore(dir);
  await store.close();
  for (const f of await indexFiles()) await truncate(f, 10);
  store = await openStore(dir);
  try {
    assert.deepEqual([await all(store, "a"), await all(store, "b")], expected);
  } finally {
    await store.close();
  }
});

test("entryBatches yields what entries yields, in arrays, from a given ID", async () => {
  const store = await openStore(dir);
  try {
    for (let i = 1; i <= 5000; i++)
      await store.streams.add(
        "s",
        [
          ["f", `v${i}`],
          ["ü", "\u{1F600}"],
        ],
        { id: `${i}-0` },
      );
    const batches: StreamEntry[][] = [];
    for await (const batch of store.streams.entryBatches("s", { from: "100" })) batches.push(batch);
    assert.ok(batches.length > 1 && batches.every((b) => b.length > 0));
    const flat = batches.flat();
    assert.deepEqual(flat, (await all(store, "s")).slice(99));
    assert.deepEqual(flat[0], {
      id: "100-0",
      fields: [
        ["f", "v100"],
        ["ü", "\u{1F600}"],
      ],
    });
    // Bytes that are not UTF-8 decode as the range reads decode them.
    await store.streams.add("bin", [["k", new Uint8Array([0xff, 0x41])]]);
    const [viaBatch] = (await store.streams.entryBatches("bin").next()).value as StreamEntry[];
    assert.deepEqual(viaBatch?.fields, (await store.streams.range("bin"))[0]?.fields);
  } finally {
    await store.close();
  }
});

test("a damaged newest streams file falls back to the older checkpoint: its index lengths load, and replay restores the rest", async () => {
  let expected: StreamEntry[][];
  {
    const store = await openStore(dir);
    await fill(store);
    expected = [await all(store, "a"), await all(store, "b")];
    await store.close();
  }
  const names = (await readdir(dir)).filter((n) => /^streams-\d+\.json$/.test(n)).sort();
  assert.equal(names.length, 2);
  const newest = join(dir, names[1] as string);
  const text = await readFile(newest, "utf8");
  await writeFile(newest, text.replace('"format":1', '"format":2'));
  const store = await openStore(dir);
  try {
    assert.equal(store.recovery.skippedCheckpoints.length, 1);
    assert.ok(store.recovery.recordsReplayed > 0);
    assert.deepEqual([await all(store, "a"), await all(store, "b")], expected);
  } finally {
    await store.close();
  }
});
