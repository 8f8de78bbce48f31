/**
 * The stream data storage under failing calls (simulated disk): a failed fdatasync or write
 * fails every later persist with a typed error, so no checkpoint names bytes that may not be
 * durable, and the next open at the last persisted capture cuts what was written after it unread.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import type { FileSystem } from "../../src/io/index.js";
import { EntryStorage, idFromParts, MAX_ID, MIN_ID, type SavedEntries, type StreamId } from "../../src/streams/index.js";
import { SimulatedDisk, wrapFileSystem } from "../../src/testing/index.js";

const DIR = "/store/streams";
const SEGMENT_BYTES = 4096;
const id = (ms: number) => idFromParts(BigInt(ms), 0n);
const body = (n: number) => new Uint8Array(100).fill(n & 0xff);

function opened(fs: FileSystem, saved?: SavedEntries): Promise<EntryStorage> {
  return EntryStorage.open(fs, DIR, saved, { readOnly: false, segmentBytes: SEGMENT_BYTES });
}

async function ids(storage: EntryStorage, stream: number): Promise<StreamId[]> {
  const all: StreamId[] = [];
  for await (const batch of storage.entries(stream).scan(MIN_ID, MAX_ID, false)) for (const entry of batch) all.push(entry.id);
  return all;
}

function appendRange(storage: EntryStorage, from: number, to: number): void {
  for (let i = from; i <= to; i++) storage.entries(1).append(id(i), body(i));
}

const typedIo = (error: unknown) => isLogbookError(error, "LOGBOOK_IO");

test("after a failed fdatasync every later persist fails, and a power cut leaves the last persisted capture", async () => {
  const disk = new SimulatedDisk(7);
  const storage = await opened(disk.view());
  appendRange(storage, 1, 20);
  const persisted = storage.capture();
  await storage.persist(persisted);
  appendRange(storage, 21, 25);
  disk.injectFaults(1, ["fsync-eio"]);
  await assert.rejects(storage.persist(storage.capture()), typedIo);
  disk.injectFaults(0);
  // The failed fdatasync dropped its pages: a retry would find nothing dirty and claim them durable.
  await assert.rejects(storage.persist(storage.capture()), typedIo);
  appendRange(storage, 26, 30);
  await assert.rejects(storage.persist(storage.capture()), typedIo);
  disk.crash("lose-all");

  const reopened = await opened(disk.view(), persisted);
  assert.deepEqual(
    await ids(reopened, 1),
    Array.from({ length: 20 }, (_, i) => id(i + 1)),
  );
  await reopened.close();
});

test("a data file whose first write tore fails persist typed; the next open cuts it unread and appends again", async () => {
  const disk = new SimulatedDisk(8);
  // The first write of every data file after the first stores part of the header, then the disk is full.
  const fs = wrapFileSystem(disk.view(), {
    handle: (inner) => ({
      write: async (data, position, options) => {
        const dataFile = /\/data-\d+\.seg$/.test(inner.path);
        if (!dataFile || inner.path.endsWith("data-00000000000000000000.seg") || position > 0) {
          return inner.write(data, position, options);
        }
        await inner.write(data.subarray(0, 10), position);
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" });
      },
    }),
  });
  const storage = await opened(fs);
  appendRange(storage, 1, 20);
  const persisted = storage.capture();
  await storage.persist(persisted);
  assert.equal(storage.files.starts.length, 1, "the capture lies in the first file");
  appendRange(storage, 21, 60);
  assert.ok(storage.files.starts.length > 1, "the appends began another file");
  await assert.rejects(storage.persist(storage.capture()), (error) => isLogbookError(error, "LOGBOOK_NO_SPACE"));
  // What a stream add waits on when too much is buffered fails with the same typed error.
  await assert.rejects(storage.bufferedAtMost(0), (error) => isLogbookError(error, "LOGBOOK_NO_SPACE"));
  // The entries stay readable from memory; the store's log would replay them at the next open.
  assert.equal((await ids(storage, 1)).length, 60);
  await storage.close();
  const dataFiles = async () => (await disk.view().list(DIR)).filter((name) => name.startsWith("data-"));
  const torn = (await dataFiles()).filter((name) => name !== "data-00000000000000000000.seg");
  assert.equal(torn.length, 1, "the torn file is there for the next open to find");

  const reopened = await opened(disk.view(), persisted);
  assert.deepEqual(await dataFiles(), ["data-00000000000000000000.seg"]);
  assert.equal((await ids(reopened, 1)).length, 20);
  appendRange(reopened, 21, 60);
  const again = reopened.capture();
  await reopened.persist(again);
  await reopened.close();
  disk.crash("lose-all");
  const last = await opened(disk.view(), again);
  assert.equal((await ids(last, 1)).length, 60);
  await last.close();
});
