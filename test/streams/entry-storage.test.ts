import assert from "node:assert/strict";
import { test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import type { FileSystem } from "../../src/io/index.js";
import {
  decodeFields,
  EntryStorage,
  encodeFields,
  idFromParts,
  MAX_ID,
  MIN_ID,
  type SavedEntries,
  type StreamId,
} from "../../src/streams/index.js";
import { SimulatedDisk } from "../../src/testing/index.js";

const DIR = "/store/streams";
const id = (ms: number, seq = 0) => idFromParts(BigInt(ms), BigInt(seq));
const body = (n: number, bytes = 100) => new Uint8Array(bytes).fill(n & 0xff);

async function opened(fs: FileSystem, saved?: SavedEntries, segmentBytes = 64 * 1024) {
  return EntryStorage.open(fs, DIR, saved, { readOnly: false, segmentBytes });
}

/** Every live entry of `stream`, as [id, first body byte, body length]. */
async function contents(storage: EntryStorage, stream: number): Promise<[StreamId, number, number][]> {
  const all: [StreamId, number, number][] = [];
  for await (const batch of storage.entries(stream).scan(MIN_ID, MAX_ID, false)) {
    for (const entry of batch) all.push([entry.id, entry.body[0] as number, entry.body.byteLength]);
  }
  return all;
}

test("an entry body keeps its field-value pairs; bad fields are refused with a typed error", () => {
  const fields = ["name", "ada", "bytes", "\x00\xff\x80", "", "x".repeat(300)];
  assert.deepEqual(decodeFields(encodeFields(fields)), fields);
  assert.throws(
    () => encodeFields(["odd"]),
    (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"),
  );
  assert.throws(
    () => encodeFields(["k", "\u0100"]),
    (e) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"),
  );
  assert.throws(
    () => decodeFields(new Uint8Array([1, 5, 1])),
    (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"),
  );
});

test("a power cut after persist recovers exactly the captured state; bytes appended after the capture are cut", async () => {
  const disk = new SimulatedDisk(11);
  const storage = await opened(disk.view());
  const a = storage.entries(1);
  const b = storage.entries(2);
  for (let i = 1; i <= 3000; i++) {
    a.append(id(i), body(i, 50 + (i % 7)));
    if (i % 3 === 0) b.append(id(i, 1), body(i + 1));
  }
  a.delete(id(1500));
  a.trimToLength(2000, false, 0);
  b.trimBefore(id(600, 1), false, 0);
  const saved = storage.capture();
  await storage.persist(saved);
  const expectedA = await contents(storage, 1);
  const expectedB = await contents(storage, 2);
  // Applied after the checkpoint: the store would replay these from its log.
  for (let i = 3001; i <= 3500; i++) a.append(id(i), body(i));
  storage.entries(3).append(id(1), body(1));
  await storage.persist(storage.capture());
  disk.crash();

  const reopened = await opened(disk.view(), JSON.parse(JSON.stringify(saved)));
  assert.deepEqual(await contents(reopened, 1), expectedA);
  assert.deepEqual(await contents(reopened, 2), expectedB);
  assert.deepEqual(reopened.capture(), saved);
  assert.equal(reopened.entries(3).length, 0);
  // Replaying continues at the captured end, so the same records land at the same places.
  reopened.entries(1).append(id(3001), body(3001));
  assert.equal(reopened.entries(1).lastId, id(3001));
  await reopened.close();
});

test("a crash at any operation during persist falls back to the previous persisted capture", async () => {
  for (let at = 0; at < 40; at += 3) {
    const disk = new SimulatedDisk(100 + at);
    const storage = await opened(disk.view(), undefined, 8 * 1024);
    const s = storage.entries(7);
    for (let i = 1; i <= 200; i++) s.append(id(i), body(i));
    const first = storage.capture();
    await storage.persist(first);
    const expected = await contents(storage, 7);
    for (let i = 201; i <= 400; i++) s.append(id(i), body(i));
    disk.crashAfter(at);
    await storage.persist(storage.capture()).catch(() => undefined);
    if (disk.crashPending) disk.crash();
    const reopened = await opened(disk.view(), first, 8 * 1024);
    assert.deepEqual(await contents(reopened, 7), expected, `crash after ${at} operations`);
    await reopened.close();
  }
});

test("release removes only files no kept capture needs, never the one being appended to", async () => {
  const disk = new SimulatedDisk(3);
  const fs = disk.view();
  const storage = await opened(fs, undefined, 4096);
  const s = storage.entries(1);
  const keep = storage.entries(2);
  keep.append(id(1), body(1));
  for (let i = 1; i <= 400; i++) s.append(id(i), body(i));
  const older = storage.capture();
  await storage.persist(older);
  s.trimToLength(10, false, 0);
  const newer = storage.capture();
  await storage.persist(newer);
  const files = async () => {
    const names = await fs.list(DIR);
    const data = names.filter((n) => n.startsWith("data-"));
    // An index file goes with its data file.
    for (const n of names.filter((n) => n.startsWith("index-")))
      assert.ok(data.includes(n.replace("index-", "data-").replace(".idx", ".seg")));
    return data.length;
  };
  const before = await files();
  await storage.release([newer, older]);
  assert.equal(await files(), before, "the older checkpoint still needs every file");
  await storage.release([newer]);
  const after = await files();
  assert.ok(after <= 3 && after < before, `files left: ${after} of ${before}`);
  assert.deepEqual(
    (await contents(storage, 1)).map(([entry]) => entry),
    Array.from({ length: 10 }, (_, i) => id(391 + i)),
  );
  assert.equal((await keep.read([id(1)]))[0]?.[0], 1);
  disk.crash("keep-all");
  const reopened = await opened(disk.view(), newer, 4096);
  assert.equal(reopened.entries(1).length, 10);
  assert.equal(reopened.entries(2).length, 1);
});

test("a flipped byte in a stored body is LOGBOOK_CORRUPTION naming the file and offset", async () => {
  const disk = new SimulatedDisk(5);
  const storage = await opened(disk.view());
  const s = storage.entries(1);
  for (let i = 1; i <= 10; i++) s.append(id(i), body(i));
  const saved = storage.capture();
  await storage.persist(saved);
  const [path] = disk.paths().filter((p) => p.startsWith(DIR));
  const bytes = disk.readFile(path as string);
  bytes[bytes.byteLength - 5] = (bytes[bytes.byteLength - 5] as number) ^ 0x10;
  disk.replaceFile(path as string, bytes);
  const stale = await s.read([id(1)]);
  assert.equal(stale[0]?.[0], 1, "an undamaged entry still reads");
  await assert.rejects(
    s.read([id(10)]),
    (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && e.file === path && typeof e.offset === "number",
  );
  // An open that loads the index file reads no body: the damage is found when the entry is read.
  const reopened = await opened(disk.view(), saved);
  await assert.rejects(reopened.entries(1).read([id(10)]), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && e.file === path);
  await reopened.close();
  // An open that reads the data file (no index file for it) checks every kept body.
  for (const p of disk.paths().filter((p) => p.startsWith(`${DIR}/index-`))) disk.replaceFile(p, new Uint8Array(0));
  await assert.rejects(opened(disk.view(), saved), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
});

test("read gives bodies from memory before they are written and undefined for entries no longer there", async () => {
  const disk = new SimulatedDisk(9);
  const storage = await opened(disk.view());
  const s = storage.entries(4);
  s.append(id(1), body(1));
  s.append(id(2), body(2));
  s.delete(id(1));
  const bodies = await s.read([id(2), id(1), id(3)]);
  assert.deepEqual(
    bodies.map((b) => b?.[0]),
    [2, undefined, undefined],
  );
  storage.drop(4);
  assert.equal(storage.entries(4).length, 0);
});

test("a stream of 200 k entries reads back from the start in order, from disk", async () => {
  const disk = new SimulatedDisk(21);
  const storage = await opened(disk.view(), undefined, 8 * 1024 * 1024);
  const s = storage.entries(1);
  const entries = 200_000;
  for (let i = 0; i < entries; i++) s.append(id(1_700_000_000_000 + i), body(i));
  await storage.persist(storage.capture());
  const started = performance.now();
  let next = 0;
  for await (const batch of s.scan(MIN_ID, MAX_ID, false)) {
    for (const entry of batch) {
      assert.equal(entry.id, id(1_700_000_000_000 + next));
      assert.equal(entry.body[0], next & 0xff);
      next++;
    }
  }
  const seconds = (performance.now() - started) / 1000;
  assert.equal(next, entries);
  console.log(`# scanned ${entries} entries in ${seconds.toFixed(3)} s (${Math.round(entries / seconds)} entries/s)`);
  let reversed = entries;
  for await (const batch of s.scan(MIN_ID, MAX_ID, true))
    for (const entry of batch) assert.equal(entry.id, id(1_700_000_000_000 + --reversed));
  assert.equal(reversed, 0);
  assert.ok(storage.indexBytes <= 16 * entries);
});
