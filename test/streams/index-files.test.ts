import assert from "node:assert/strict";
import { test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import type { FileSystem } from "../../src/io/index.js";
import { EntryStorage, idFromParts, MAX_ID, MIN_ID, type SavedEntries, type StreamId } from "../../src/streams/index.js";
import { INDEX_CHUNK_HEADER_BYTES, INDEX_ROW_BYTES, sealChunk } from "../../src/streams/index-format.js";
import { SimulatedDisk } from "../../src/testing/index.js";

const DIR = "/store/streams";
const id = (ms: number, seq = 0) => idFromParts(BigInt(ms), BigInt(seq));
const body = (n: number, bytes = 60) => new Uint8Array(bytes).fill(n & 0xff);

function opened(fs: FileSystem, saved?: SavedEntries, readOnly = false) {
  return EntryStorage.open(fs, DIR, saved, { readOnly, segmentBytes: 8 * 1024 });
}

async function contents(storage: EntryStorage, stream: number): Promise<[StreamId, number][]> {
  const all: [StreamId, number][] = [];
  for await (const batch of storage.entries(stream).scan(MIN_ID, MAX_ID, false)) {
    for (const entry of batch) all.push([entry.id, entry.body[0] as number]);
  }
  return all;
}

const indexPaths = (disk: SimulatedDisk) => disk.paths().filter((p) => p.startsWith(`${DIR}/index-`));
const sizes = (disk: SimulatedDisk) => indexPaths(disk).map((p) => disk.readFile(p).byteLength);

/** Two streams over many data files, with a trim and a delete, persisted twice. */
async function twoCaptures(disk: SimulatedDisk) {
  const storage = await opened(disk.view());
  const a = storage.entries(1);
  const b = storage.entries(2);
  for (let i = 1; i <= 600; i++) {
    a.append(id(i), body(i));
    if (i % 4 === 0) b.append(id(i, 7), body(i + 1));
  }
  a.delete(id(300));
  a.trimToLength(500, false, 0);
  const older = storage.capture();
  await storage.persist(older);
  const olderContents = [await contents(storage, 1), await contents(storage, 2)];
  const olderSizes = sizes(disk);
  for (let i = 601; i <= 900; i++) a.append(id(i), body(i));
  b.trimBefore(id(400, 7), false, 0);
  const newer = storage.capture();
  await storage.persist(newer);
  const newerContents = [await contents(storage, 1), await contents(storage, 2)];
  await storage.close();
  return { older, newer, olderContents, newerContents, olderSizes };
}

test("an open loads the index files the capture records and gives exactly the entries it had", async () => {
  const disk = new SimulatedDisk(31);
  const { newer, newerContents } = await twoCaptures(disk);
  assert.ok(indexPaths(disk).length > 3);
  disk.crash();
  const reopened = await opened(disk.view(), newer);
  assert.deepEqual([await contents(reopened, 1), await contents(reopened, 2)], newerContents);
  assert.deepEqual(reopened.capture(), newer);
  await reopened.close();
});

test("falling back to the older capture cuts the index files to its lengths; what replay appends again is indexed anew", async () => {
  const disk = new SimulatedDisk(32);
  const { older, olderContents, olderSizes } = await twoCaptures(disk);
  disk.crash();
  const reopened = await opened(disk.view(), older);
  assert.deepEqual([await contents(reopened, 1), await contents(reopened, 2)], olderContents);
  assert.deepEqual(sizes(disk), olderSizes);
  for (let i = 601; i <= 700; i++) reopened.entries(1).append(id(i), body(i));
  const next = reopened.capture();
  await reopened.persist(next);
  const expected = await contents(reopened, 1);
  await reopened.close();
  disk.crash();
  const again = await opened(disk.view(), next);
  assert.deepEqual(await contents(again, 1), expected);
  await again.close();
});

test("a read-only open loads the index files and changes none of them", async () => {
  const disk = new SimulatedDisk(33);
  const { older, olderContents } = await twoCaptures(disk);
  const before = indexPaths(disk).map((p) => disk.readFile(p));
  const reader = await opened(disk.view(), older, true);
  assert.deepEqual([await contents(reader, 1), await contents(reader, 2)], olderContents);
  await reader.close();
  assert.deepEqual(
    indexPaths(disk).map((p) => disk.readFile(p)),
    before,
  );
});

test("a capture without index files (written before them) reads the data; new appends begin a data file that has one", async () => {
  const disk = new SimulatedDisk(34);
  const { newer, newerContents } = await twoCaptures(disk);
  const { indexes: _, ...withoutIndexes } = newer;
  const reopened = await opened(disk.view(), withoutIndexes);
  assert.deepEqual(indexPaths(disk), [], "index files no capture records are removed");
  assert.deepEqual([await contents(reopened, 1), await contents(reopened, 2)], newerContents);
  reopened.entries(1).append(id(5000), body(1));
  const next = reopened.capture();
  await reopened.persist(next);
  assert.equal(next.indexes?.length, 1, "only the new data file has an index file");
  assert.equal(next.indexes?.[0]?.start, newer.endPosition);
  await reopened.close();
  const again = await opened(disk.view(), next);
  assert.equal((await contents(again, 1)).at(-1)?.[0], id(5000));
  await again.close();
});

test("an index row that checks but cannot be its data file's record fails the open with LOGBOOK_CORRUPTION", async () => {
  const disk = new SimulatedDisk(35);
  const { newer } = await twoCaptures(disk);
  // The last file's: every stream keeps entries there (the first files are below both streams' first).
  const path = indexPaths(disk).at(-1);
  const bytes = disk.readFile(path as string);
  const rows = new DataView(bytes.buffer).getUint32(4, true);
  // The first row's body length, one more than its record's, under a CRC that matches again.
  const view = new DataView(bytes.buffer, INDEX_CHUNK_HEADER_BYTES + 4);
  view.setUint32(0, view.getUint32(0, true) + 1, true);
  const start = Number(/index-(\d+)/.exec(path as string)?.[1]);
  sealChunk(bytes.subarray(0, INDEX_CHUNK_HEADER_BYTES + rows * INDEX_ROW_BYTES), rows, start);
  disk.replaceFile(path as string, bytes);
  await assert.rejects(opened(disk.view(), newer), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && e.file !== undefined);
});

test("release removes a released data file's index file with it", async () => {
  const disk = new SimulatedDisk(36);
  const storage = await opened(disk.view());
  const s = storage.entries(1);
  for (let i = 1; i <= 600; i++) s.append(id(i), body(i));
  await storage.persist(storage.capture());
  s.trimToLength(5, false, 0);
  const newer = storage.capture();
  await storage.persist(newer);
  await storage.release([newer]);
  const data = disk.paths().filter((p) => p.startsWith(`${DIR}/data-`));
  assert.deepEqual(
    indexPaths(disk).map((p) => p.replace("index-", "data-").replace(".idx", ".seg")),
    data,
  );
  assert.ok(data.length <= 2);
  await storage.close();
  const reopened = await opened(disk.view(), newer);
  assert.equal(reopened.entries(1).length, 5);
  await reopened.close();
});
