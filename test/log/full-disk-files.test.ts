/**
 * What a full disk leaves in a log directory: nothing partial. A new log whose first segment
 * cannot be zero-filled leaves no segment file; a torn tail that cannot be copied aside
 * (ENOSPC on the copy) leaves no empty or partial `*.broken` file, and the next open, once
 * space returns, repairs the tail as usual.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { test } from "node:test";
import { isLogbookError, Log, type LogOptions } from "../../src/index.js";
import type { FileSystem } from "../../src/io/file-system.js";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { FRAME_HEADER_BYTES, RECORD_HEADER_BYTES, recordBytes, SEGMENT_HEADER_BYTES } from "../../src/log/format.js";
import { wrapFileSystem } from "../../src/testing/index.js";
import { segmentFiles, zeroRange } from "../support/surgery.js";
import { bytes, tempDir } from "../support/temp.js";

const SMALL: LogOptions = { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 };
const PAYLOAD_BYTES = 100;
const FRAME_BYTES = FRAME_HEADER_BYTES + recordBytes(PAYLOAD_BYTES);
const RECORDS = 5;

function enospc(): NodeJS.ErrnoException {
  const error = new Error("ENOSPC: no space left on device, write") as NodeJS.ErrnoException;
  error.code = "ENOSPC";
  return error;
}

/** A disk with no free block: writes to files whose name ends with `suffix` fail and write nothing. */
function fullFor(suffix: string): FileSystem {
  return wrapFileSystem(new NodeFileSystem(), {
    handle: (inner) => (inner.path.endsWith(suffix) ? { write: async () => Promise.reject(enospc()) } : {}),
  });
}

test("a new log whose first segment cannot be written on a full disk fails with LOGBOOK_NO_SPACE and leaves no segment file", async () => {
  const { path: dir, cleanup } = await tempDir();
  try {
    await assert.rejects(Log.open(dir, { ...SMALL, fileSystem: fullFor(".log") }), (error) =>
      isLogbookError(error, "LOGBOOK_NO_SPACE"),
    );
    assert.deepEqual(await segmentFiles(dir), [], "no partial segment is left behind");
    await using log = await Log.open(dir, SMALL);
    assert.equal(await log.append(bytes("after space returned")), 1);
  } finally {
    await cleanup();
  }
});

test("a torn tail that cannot be copied aside on a full disk leaves no *.broken file, and is repaired once space returns", async () => {
  const { path: dir, cleanup } = await tempDir();
  try {
    {
      await using log = await Log.open(dir, SMALL);
      for (let i = 0; i < RECORDS; i++) await log.append(bytes(`record ${i}`.padEnd(PAYLOAD_BYTES, ".")));
    }
    const [segment] = await segmentFiles(dir);
    assert.ok(segment);
    const tornAt = SEGMENT_HEADER_BYTES + (RECORDS - 1) * FRAME_BYTES;
    await zeroRange(segment, tornAt + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES + 8, 16);
    for (let attempt = 0; attempt < 3; attempt++) {
      await assert.rejects(Log.open(dir, { ...SMALL, fileSystem: fullFor(".broken") }), (error) =>
        isLogbookError(error, "LOGBOOK_NO_SPACE"),
      );
      const broken = (await readdir(dir)).filter((name) => name.endsWith(".broken"));
      assert.deepEqual(broken, [], `attempt ${attempt}: no empty or partial copy is left`);
    }
    await using log = await Log.open(dir, SMALL);
    assert.equal(log.lastLsn, RECORDS - 1);
    assert.equal(log.recovery.tornTail?.offset, tornAt);
    assert.equal((await readdir(dir)).filter((name) => name.endsWith(".broken")).length, 1, "the copy is made once it fits");
  } finally {
    await cleanup();
  }
});
