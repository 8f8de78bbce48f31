import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type FileHandle, type FileSystem, isLogbookError } from "../../src/index.js";
import { BLOCK_BYTES_TARGET, BLOCK_HEADER_BYTES, CHECKPOINT_FOOTER_BYTES, writeCheckpoint } from "../../src/store/checkpoint.js";
import { CHECKPOINT_READ_WINDOW_BYTES, readCheckpoint } from "../../src/store/checkpoint-reader.js";
import { SortedState, storedValue, storedVersion, toStored } from "../../src/store/state.js";
import { SimulatedDisk, wrapFileSystem } from "../../src/testing/index.js";

const DIR = "/store";
const LSN = 1_000_000;

/** A file system on a fresh simulated disk that records the size of every read. */
function recordingReads(): { fs: FileSystem; disk: SimulatedDisk; readBytes: number[] } {
  const disk = new SimulatedDisk(1);
  const readBytes: number[] = [];
  const fs = wrapFileSystem(disk.view());
  const open = fs.open;
  fs.open = async (path, mode) => {
    const handle = await open(path, mode);
    return {
      ...handle,
      read: (buffer, position) => {
        readBytes.push(buffer.byteLength);
        return handle.read(buffer, position);
      },
    };
  };
  return { fs, disk, readBytes };
}

function stateOf(count: number, valueBytes: (i: number) => number): SortedState {
  const state = SortedState.empty();
  for (let i = 0; i < count; i++) {
    state.set(`key-${String(i).padStart(8, "0")}`, toStored(String.fromCharCode(97 + (i % 26)).repeat(valueBytes(i)), i + 1));
  }
  return state;
}

function entriesOf(state: SortedState): [string, string, number][] {
  return [...state.entries(undefined, false)].map(([key, stored]) => [key, storedValue(stored), storedVersion(stored)]);
}

async function written(fs: FileSystem, state: SortedState): Promise<{ path: string; bytes: number }> {
  await fs.mkdir(DIR);
  const info = await writeCheckpoint(fs, DIR, state, LSN, 0);
  return { path: `${DIR}/${info.file}`, bytes: info.bytes };
}

describe("checkpoint reader", () => {
  test("a checkpoint is loaded through a bounded window: no read is larger than the window, whatever the file's size", async () => {
    const { fs, readBytes } = recordingReads();
    const state = stateOf(30_000, (i) => 60 + (i % 80));
    const { path, bytes } = await written(fs, state);
    const windowBytes = 256 * 1024;
    assert.ok(bytes > 8 * windowBytes, `the file (${bytes} bytes) spans many windows`);
    readBytes.length = 0;
    const loaded = await readCheckpoint(fs, path, windowBytes);
    assert.deepEqual(entriesOf(loaded.state), entriesOf(state));
    assert.equal(loaded.lsn, LSN);
    assert.ok(Math.max(...readBytes) <= windowBytes, `largest read ${Math.max(...readBytes)} bytes`);
    assert.ok(readBytes.length < (2 * bytes) / windowBytes + 8, `${readBytes.length} reads: each window is read once`);
    readBytes.length = 0;
    await readCheckpoint(fs, path);
    assert.ok(Math.max(...readBytes) <= CHECKPOINT_READ_WINDOW_BYTES);
  });

  test("a window smaller than a block grows to one block, and no further", async () => {
    const { fs, readBytes } = recordingReads();
    const state = stateOf(5_000, (i) => 100 + (i % 50));
    const { path } = await written(fs, state);
    readBytes.length = 0;
    const loaded = await readCheckpoint(fs, path, 512);
    assert.deepEqual(entriesOf(loaded.state), entriesOf(state));
    const largestEntryBytes = 4 + 12 + 4 + 150 + 8;
    assert.ok(Math.max(...readBytes) <= BLOCK_BYTES_TARGET + largestEntryBytes, `largest read ${Math.max(...readBytes)} bytes`);
  });

  test("entries larger than the window, each in a block of its own, load whole", async () => {
    const { fs } = recordingReads();
    const state = stateOf(12, (i) => (i % 3 === 0 ? 300 * 1024 : 10));
    const { path } = await written(fs, state);
    const loaded = await readCheckpoint(fs, path, 64 * 1024);
    assert.deepEqual(entriesOf(loaded.state), entriesOf(state));
  });

  test("damage anywhere in a checkpoint read through a small window is refused with LOGBOOK_CORRUPTION", async () => {
    const { fs, disk } = recordingReads();
    const state = stateOf(2_000, (i) => 20 + (i % 30));
    const { path, bytes } = await written(fs, state);
    const original = disk.readFile(path);
    for (let offset = 0; offset < bytes; offset += 97) {
      const damaged = original.slice();
      damaged[offset] = (damaged[offset] as number) ^ 0x10;
      disk.replaceFile(path, damaged);
      await assert.rejects(
        readCheckpoint(fs, path, 1024),
        (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && e.file === path,
        `a flipped bit at ${offset}`,
      );
    }
  });

  test("a file larger than one Buffer can hold is read in windows at offsets past 4 GiB", async () => {
    const { fs } = recordingReads();
    const state = stateOf(3_000, () => 50);
    const { path, bytes } = await written(fs, state);
    const real = await fs.open(path, "read");
    const realBytes = Buffer.alloc(bytes);
    await real.read(realBytes, 0);
    await real.close();
    // 5 GiB: the real header and blocks at the start, zeros, then the real footer at the end.
    const sizeBytes = 5 * 1024 * 1024 * 1024;
    const footerAt = sizeBytes - CHECKPOINT_FOOTER_BYTES;
    const realFooterAt = bytes - CHECKPOINT_FOOTER_BYTES;
    const reads: { position: number; bytes: number }[] = [];
    const huge: FileHandle = {
      path: "/huge/checkpoint-00000000000001000000.dat",
      read: async (buffer, position) => {
        reads.push({ position, bytes: buffer.byteLength });
        const end = Math.min(position + buffer.byteLength, sizeBytes);
        for (let at = position; at < end; at++) {
          const real = at < realFooterAt ? realBytes[at] : at >= footerAt ? realBytes[realFooterAt + at - footerAt] : 0;
          buffer[at - position] = real ?? 0;
        }
        return end - position;
      },
      write: () => Promise.reject(new Error("read only")),
      datasync: () => Promise.resolve(),
      sizeBytes: async () => sizeBytes,
      truncate: () => Promise.reject(new Error("read only")),
      close: async () => undefined,
    };
    const hugeFs: FileSystem = { ...fs, open: async () => huge };
    const windowBytes = 64 * 1024 + BLOCK_HEADER_BYTES;
    await assert.rejects(
      readCheckpoint(hugeFs, huge.path, windowBytes),
      (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && /bytes between the last block and the footer/.test(e.message),
    );
    assert.ok(
      reads.some((r) => r.position === footerAt),
      "the footer was read where a 5 GiB file has it",
    );
    assert.ok(Math.max(...reads.map((r) => r.bytes)) <= windowBytes);
  });
});
