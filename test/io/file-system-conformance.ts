/**
 * One suite for the FileSystem interface (src/io/file-system.ts), run against every
 * implementation: what the log and the store rely on, stated once. Each test gets a fresh file
 * system with an empty directory `root` in it.
 *
 * Errors are platform errors whose `code` is the errno the log tests for (ENOENT, EEXIST,
 * EBADF…); a second writer is refused with LOGBOOK_LOCKED. Handles either carry an OS
 * descriptor that the writer thread writes and fdatasyncs directly (src/io/sync-ops.ts), or
 * none at all, and the log then commits through the handle's own methods.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import type { FileHandle, FileSystem } from "../../src/io/file-system.js";
import { datasyncSync, writeChunksSync } from "../../src/io/sync-ops.js";
import { bytes, text } from "../support/temp.js";

export interface FileSystemUnderTest {
  fileSystem: FileSystem;
  /** A directory that exists, is empty, and the test may fill. */
  root: string;
  cleanup(): Promise<void>;
}

export interface FileSystemImplementation {
  name: string;
  /** A fresh file system for one test. */
  setup(): Promise<FileSystemUnderTest>;
  /** Whether handles open for writing carry a descriptor usable with src/io/sync-ops.ts. */
  descriptors: boolean;
}

/** Rejects with a platform error of this errno `code`. */
async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: NodeJS.ErrnoException) => {
    assert.ok(error instanceof Error, `not an Error: ${String(error)}`);
    assert.equal(error.code, code, `${error.message}: expected ${code}`);
    return true;
  });
}

/** Reads `length` bytes at `position` and returns them as text, with how many were read. */
async function readText(handle: FileHandle, position: number, length: number): Promise<[string, number]> {
  const buffer = new Uint8Array(length);
  const read = await handle.read(buffer, position);
  return [text(buffer.subarray(0, read)), read];
}

export function fileSystemConformance(implementation: FileSystemImplementation): void {
  describe(`FileSystem conformance: ${implementation.name}`, () => {
    const at: { fs: FileSystem; root: string; cleanup: () => Promise<void> } = {
      fs: undefined as unknown as FileSystem,
      root: "",
      cleanup: async () => undefined,
    };
    beforeEach(async () => {
      const { fileSystem, root, cleanup } = await implementation.setup();
      Object.assign(at, { fs: fileSystem, root, cleanup });
    });
    afterEach(async () => {
      await at.cleanup();
    });
    openModes(at);
    readsAndWrites(at);
    names(at);
    directories(at);
    lockAndClose(at);
    descriptors(at, implementation.descriptors);
  });
}

interface Context {
  fs: FileSystem;
  root: string;
}

function openModes(at: Context): void {
  test('"create" makes an empty file with a name in its directory; again, it fails with EEXIST', async () => {
    const path = join(at.root, "a.log");
    const handle = await at.fs.open(path, "create");
    assert.equal(handle.path, path);
    assert.equal(await handle.sizeBytes(), 0);
    await handle.close();
    assert.deepEqual(await at.fs.list(at.root), ["a.log"]);
    await rejectsWith(at.fs.open(path, "create"), "EEXIST");
  });

  test('"read" and "write" of a missing file, and "create" in a missing directory, fail with ENOENT', async () => {
    await rejectsWith(at.fs.open(join(at.root, "missing"), "read"), "ENOENT");
    await rejectsWith(at.fs.open(join(at.root, "missing"), "write"), "ENOENT");
    await rejectsWith(at.fs.open(join(at.root, "no-dir", "a.log"), "create"), "ENOENT");
  });

  test('a directory opened "create" fails with EEXIST, "write" with EISDIR', async () => {
    await at.fs.mkdir(join(at.root, "sub"));
    await rejectsWith(at.fs.open(join(at.root, "sub"), "create"), "EEXIST");
    await rejectsWith(at.fs.open(join(at.root, "sub"), "write"), "EISDIR");
  });

  test('"write" opens an existing file as it is; a "read" handle refuses write (EBADF) and truncate (EINVAL)', async () => {
    const path = join(at.root, "a.log");
    const created = await at.fs.open(path, "create");
    await created.write(bytes("hello"), 0);
    await created.close();
    const writable = await at.fs.open(path, "write");
    assert.equal(await writable.sizeBytes(), 5);
    assert.deepEqual(await readText(writable, 0, 5), ["hello", 5]);
    await writable.close();
    const readable = await at.fs.open(path, "read");
    await rejectsWith(readable.write(bytes("x"), 0), "EBADF");
    await rejectsWith(readable.truncate(0), "EINVAL");
    await readable.datasync(); // fdatasync of a descriptor open for reading is allowed
    assert.deepEqual(await readText(readable, 0, 5), ["hello", 5]);
    await readable.close();
  });
}

function readsAndWrites(at: Context): void {
  test("write puts bytes at a position; read returns them, short only at the end of the file", async () => {
    const handle = await at.fs.open(join(at.root, "a.log"), "create");
    await handle.write(bytes("0123456789"), 0);
    await handle.write(bytes("abc"), 4);
    assert.equal(await handle.sizeBytes(), 10);
    assert.deepEqual(await readText(handle, 0, 10), ["0123abc789", 10]);
    assert.deepEqual(await readText(handle, 8, 10), ["89", 2]);
    assert.deepEqual(await readText(handle, 10, 4), ["", 0]);
    assert.deepEqual(await readText(handle, 100, 4), ["", 0]);
    await handle.close();
  });

  test("a write past the end grows the file, and the gap reads as zeros", async () => {
    const handle = await at.fs.open(join(at.root, "a.log"), "create");
    await handle.write(bytes("ab"), 0);
    await handle.write(bytes("z"), 5000);
    assert.equal(await handle.sizeBytes(), 5001);
    const buffer = new Uint8Array(5001).fill(7);
    assert.equal(await handle.read(buffer, 0), 5001);
    assert.deepEqual([...buffer.subarray(0, 3)], [97, 98, 0]);
    assert.ok(buffer.subarray(2, 5000).every((byte) => byte === 0));
    assert.equal(buffer[5000], 122);
    await handle.close();
  });

  test("a write with datasync, or a write then datasync, resolves with the bytes readable, also by a new handle", async () => {
    const path = join(at.root, "a.log");
    const handle = await at.fs.open(path, "create");
    await handle.write(bytes("synced with the write"), 0, { datasync: true });
    await handle.write(bytes("then synced"), 21);
    await handle.datasync();
    await handle.close();
    const again = await at.fs.open(path, "read");
    assert.deepEqual(await readText(again, 0, 64), ["synced with the writethen synced", 32]);
    await again.close();
  });

  test("bytes written through one handle are read through another handle of the same file at once", async () => {
    const path = join(at.root, "a.log");
    const writer = await at.fs.open(path, "create");
    const reader = await at.fs.open(path, "read");
    await writer.write(bytes("seen"), 0);
    assert.equal(await reader.sizeBytes(), 4);
    assert.deepEqual(await readText(reader, 0, 8), ["seen", 4]);
    await Promise.all([writer.close(), reader.close()]);
  });

  test("truncate sets the size; a file cut and grown again reads zeros where the cut bytes were", async () => {
    const handle = await at.fs.open(join(at.root, "a.log"), "create");
    await handle.write(bytes("0123456789"), 0);
    await handle.truncate(4);
    assert.equal(await handle.sizeBytes(), 4);
    assert.deepEqual(await readText(handle, 0, 10), ["0123", 4]);
    await handle.truncate(8);
    assert.equal(await handle.sizeBytes(), 8);
    const buffer = new Uint8Array(10).fill(7);
    assert.equal(await handle.read(buffer, 0), 8);
    assert.deepEqual([...buffer.subarray(4, 8)], [0, 0, 0, 0]);
    await handle.write(bytes("x"), 9);
    assert.equal(await handle.read(buffer, 0), 10);
    assert.deepEqual([...buffer.subarray(4, 9)], [0, 0, 0, 0, 0]);
    await handle.datasync();
    await handle.close();
  });
}

function names(at: Context): void {
  test("rename moves a name, replacing a file at the target; an open handle keeps its file", async () => {
    const from = join(at.root, "a.tmp");
    const to = join(at.root, "a.log");
    const old = await at.fs.open(to, "create");
    await old.write(bytes("old"), 0);
    await old.close();
    const handle = await at.fs.open(from, "create");
    await handle.write(bytes("new"), 0);
    await at.fs.rename(from, to);
    assert.deepEqual(await at.fs.list(at.root), ["a.log"]);
    await rejectsWith(at.fs.open(from, "read"), "ENOENT");
    await handle.write(bytes("er"), 3);
    const reader = await at.fs.open(to, "read");
    assert.deepEqual(await readText(reader, 0, 16), ["newer", 5]);
    await Promise.all([handle.close(), reader.close()]);
  });

  test("rename of a missing file, or into a missing directory, fails with ENOENT", async () => {
    await rejectsWith(at.fs.rename(join(at.root, "missing"), join(at.root, "b")), "ENOENT");
    const handle = await at.fs.open(join(at.root, "a"), "create");
    await handle.close();
    await rejectsWith(at.fs.rename(join(at.root, "a"), join(at.root, "no-dir", "a")), "ENOENT");
    assert.deepEqual(await at.fs.list(at.root), ["a"]);
  });

  test("unlink removes a name (a missing one fails with ENOENT, a directory with EISDIR); an open handle still reads", async () => {
    const path = join(at.root, "a.log");
    const handle = await at.fs.open(path, "create");
    await handle.write(bytes("kept by the handle"), 0);
    await at.fs.unlink(path);
    assert.deepEqual(await at.fs.list(at.root), []);
    await rejectsWith(at.fs.open(path, "read"), "ENOENT");
    assert.deepEqual(await readText(handle, 0, 64), ["kept by the handle", 18]);
    await handle.close();
    await rejectsWith(at.fs.unlink(path), "ENOENT");
    await at.fs.mkdir(join(at.root, "sub"));
    await rejectsWith(at.fs.unlink(join(at.root, "sub")), "EISDIR");
  });
}

function directories(at: Context): void {
  test("mkdir makes a directory and its parents, and again does nothing; list names files and directories", async () => {
    const deep = join(at.root, "a", "b", "c");
    await at.fs.mkdir(deep);
    await at.fs.mkdir(deep);
    const handle = await at.fs.open(join(at.root, "a", "file"), "create");
    await handle.close();
    assert.deepEqual((await at.fs.list(join(at.root, "a"))).sort(), ["b", "file"]);
    assert.deepEqual(await at.fs.list(join(at.root, "a", "b")), ["c"]);
    assert.deepEqual(await at.fs.list(deep), []);
    await at.fs.syncDirectory(deep);
    await at.fs.syncDirectory(at.root);
  });

  test("list of a missing directory is empty; of a file, ENOTDIR", async () => {
    assert.deepEqual(await at.fs.list(join(at.root, "missing")), []);
    const handle = await at.fs.open(join(at.root, "file"), "create");
    await handle.close();
    await rejectsWith(at.fs.list(join(at.root, "file")), "ENOTDIR");
  });

  test("mkdir over a file fails with EEXIST, through a file with ENOTDIR", async () => {
    const handle = await at.fs.open(join(at.root, "file"), "create");
    await handle.close();
    await rejectsWith(at.fs.mkdir(join(at.root, "file")), "EEXIST");
    await rejectsWith(at.fs.mkdir(join(at.root, "file", "sub")), "ENOTDIR");
  });

  test("syncDirectory of a missing directory fails with ENOENT, of a file with ENOTDIR", async () => {
    await rejectsWith(at.fs.syncDirectory(join(at.root, "missing")), "ENOENT");
    const handle = await at.fs.open(join(at.root, "file"), "create");
    await handle.close();
    await rejectsWith(at.fs.syncDirectory(join(at.root, "file")), "ENOTDIR");
  });
}

function lockAndClose(at: Context): void {
  test("lockDirectory: one holder at a time (LOGBOOK_LOCKED), free again once released; release twice is harmless", async () => {
    const first = await at.fs.lockDirectory(at.root);
    await assert.rejects(at.fs.lockDirectory(at.root), (error: unknown) => isLogbookError(error, "LOGBOOK_LOCKED"));
    await first.release();
    await first.release();
    const second = await at.fs.lockDirectory(at.root);
    await second.release();
    await rejectsWith(at.fs.lockDirectory(join(at.root, "missing")), "ENOENT");
  });

  test("a closed handle refuses every call with EBADF; closing it again is harmless", async () => {
    const handle = await at.fs.open(join(at.root, "a.log"), "create");
    await handle.write(bytes("x"), 0);
    await handle.close();
    await rejectsWith(handle.read(new Uint8Array(1), 0), "EBADF");
    await rejectsWith(handle.write(bytes("y"), 0), "EBADF");
    await rejectsWith(handle.datasync(), "EBADF");
    await rejectsWith(handle.sizeBytes(), "EBADF");
    await rejectsWith(handle.truncate(0), "EBADF");
    await handle.close();
  });

  test("close of the file system, when it has one, resolves once its handles are closed", async () => {
    const handle = await at.fs.open(join(at.root, "a.log"), "create");
    await handle.close();
    await at.fs.close?.();
  });
}

function descriptors(at: Context, expected: boolean): void {
  if (!expected) {
    test("handles carry no descriptor, in any mode: the log commits through write and datasync", async () => {
      const path = join(at.root, "a.log");
      for (const mode of ["create", "write", "read"] as const) {
        const handle = await at.fs.open(path, mode);
        assert.equal(handle.descriptor, undefined, mode);
        await handle.close();
      }
    });
    return;
  }
  test("a writable handle's descriptor takes the writer thread's writes and fdatasync, read back through the handle", async () => {
    const handle = await at.fs.open(join(at.root, "a.log"), "create");
    const fd = handle.descriptor;
    assert.ok(typeof fd === "number" && Number.isInteger(fd) && fd >= 0, `descriptor ${fd}`);
    await handle.write(bytes("header.."), 0);
    writeChunksSync(fd, [bytes("frame one|"), bytes("frame two")], 8);
    datasyncSync(fd);
    assert.equal(await handle.sizeBytes(), 27);
    assert.deepEqual(await readText(handle, 0, 64), ["header..frame one|frame two", 27]);
    await handle.close();
    const reopened = await at.fs.open(join(at.root, "a.log"), "write");
    assert.ok(typeof reopened.descriptor === "number" && reopened.descriptor >= 0, "a handle opened for writing has one too");
    await reopened.close();
  });
}
