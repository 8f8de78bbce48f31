import assert from "node:assert/strict";
import { copyFile, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import fc from "fast-check";
import { isLogbookError, Log, type LogOptions } from "../../src/index.js";
import { FRAME_HEADER_BYTES, RECORD_HEADER_BYTES, recordBytes, SEGMENT_HEADER_BYTES } from "../../src/log/format.js";
import { segmentName } from "../../src/log/segment-header.js";
import { flipBit, readBytes, segmentFiles, writeBytes, zeroRange, zeroSector } from "../support/surgery.js";
import { bytes, tempDir, text } from "../support/temp.js";

const SMALL: LogOptions = { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 };
const PAYLOAD_BYTES = 100;
/** With one append at a time, every record is alone in its frame. */
const FRAME_BYTES = FRAME_HEADER_BYTES + recordBytes(PAYLOAD_BYTES);

function payloadFor(lsn: number): Uint8Array {
  return bytes(`record ${lsn} `.padEnd(PAYLOAD_BYTES, "."));
}

function frameOffset(lsn: number, firstLsn = 1): number {
  return SEGMENT_HEADER_BYTES + (lsn - firstLsn) * FRAME_BYTES;
}

async function writeRecords(dir: string, count: number, options: LogOptions = SMALL): Promise<void> {
  await using log = await Log.open(dir, options);
  for (let i = 0; i < count; i++) await log.append(payloadFor(log.lastLsn + 1));
}

async function readAll(log: Log): Promise<number[]> {
  const lsns: number[] = [];
  for await (const record of log.read()) {
    assert.equal(text(record.payload), text(payloadFor(record.lsn)), `record ${record.lsn} is intact`);
    lsns.push(record.lsn);
  }
  return lsns;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("recovery on open", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("a record torn at the tail is dropped, kept aside, and the log opens and appends after it", async () => {
    await writeRecords(dir, 10);
    const [segment] = await segmentFiles(dir);
    assert.ok(segment);
    const tornAt = frameOffset(10);
    const original = await readBytes(segment, tornAt, FRAME_BYTES);
    await zeroRange(segment, tornAt + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES + 8, 16);
    {
      await using log = await Log.open(dir, SMALL);
      assert.equal(log.lastLsn, 9);
      assert.equal(log.recovery.tornTail?.offset, tornAt);
      assert.equal(log.recovery.tornTail?.file, segment);
      const keptAs = log.recovery.tornTail?.keptAs;
      assert.ok(keptAs !== undefined);
      const kept = await readFile(keptAs);
      assert.deepEqual(kept.subarray(0, FRAME_HEADER_BYTES), original.subarray(0, FRAME_HEADER_BYTES), "original bytes kept");
      assert.deepEqual(await readAll(log), range(1, 9));
      assert.equal(await log.append(payloadFor(10)), 10);
      assert.equal(await log.append(payloadFor(11)), 11);
    }
    await using log = await Log.open(dir, SMALL);
    assert.equal(log.recovery.tornTail, undefined, "the repaired tail does not come back");
    assert.deepEqual(await readAll(log), range(1, 11));
  });

  test("a torn frame header at the tail that keeps its LSN is a torn tail too", async () => {
    await writeRecords(dir, 5);
    const [segment] = await segmentFiles(dir);
    // Part of the header never reached the disk; its magic and first LSN did.
    await zeroRange(segment as string, frameOffset(5) + 16, 12);
    await using log = await Log.open(dir, SMALL);
    assert.equal(log.lastLsn, 4);
    assert.ok(log.recovery.tornTail);
  });

  test("a frame header torn beyond recognition at the tail is the end of the log, and appends go on after it", async () => {
    await writeRecords(dir, 5);
    const [segment] = await segmentFiles(dir);
    // Its size and LSN never reached the disk: not a frame of this segment, and none follows.
    await zeroRange(segment as string, frameOffset(5) + 4, 12);
    {
      await using log = await Log.open(dir, { ...SMALL, recovery: "strict" });
      assert.equal(log.lastLsn, 4);
      await log.append(payloadFor(5));
      await log.append(payloadFor(6));
    }
    await using log = await Log.open(dir, { ...SMALL, recovery: "strict" });
    assert.deepEqual(await readAll(log), range(1, 6));
  });

  // Found by the crash simulator (sim/, misdirected writes): both once lost acknowledged records in silence.
  test("a newest segment whose first sector was overwritten is damage, not an unfinished rotation", async () => {
    await writeRecords(dir, 10);
    const [segment] = await segmentFiles(dir);
    // Sector 0 (the header and the first frames) holds another sector's bytes.
    await writeBytes(segment as string, 0, await readBytes(segment as string, 1024, 512));
    await assert.rejects(Log.open(dir, SMALL), (error) => isLogbookError(error, "LOGBOOK_CORRUPTION"));
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith(".broken")),
      [],
      "nothing was set aside",
    );
  });

  test("damage in the frame before a last frame whose header checks is not a torn tail", async () => {
    await writeRecords(dir, 10);
    const [segment] = await segmentFiles(dir);
    await zeroRange(segment as string, frameOffset(9) + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES, 8);
    await zeroRange(segment as string, frameOffset(10) + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES, 8);
    await assert.rejects(Log.open(dir, SMALL), (error) => isLogbookError(error, "LOGBOOK_CORRUPTION") && error.lsn === 9);
  });

  test("one flipped bit in the last frame is damage, not a torn tail: the open is refused, nothing is cut", async () => {
    await writeRecords(dir, 5);
    const [segment] = await segmentFiles(dir);
    const original = await readFile(segment as string);
    const last = frameOffset(5);
    const record = last + FRAME_HEADER_BYTES;
    // The frame header's magic, size and checksum; the record's checksum, length, LSN, payload and padding.
    const places = [last, last + 5, last + 29, record, record + 4, record + 9, record + RECORD_HEADER_BYTES + 2];
    const padding = record + RECORD_HEADER_BYTES + payloadFor(5).byteLength;
    if (padding % 8 !== 0) places.push(padding);
    for (const offset of places) {
      for (const bit of [0, 5]) {
        await writeFile(segment as string, original);
        await flipBit(segment as string, offset, bit);
        await assert.rejects(
          Log.open(dir, SMALL),
          (error) => isLogbookError(error, "LOGBOOK_CORRUPTION") && /one bit away/.test(error.message),
          `bit ${bit} of byte ${offset - last} of the last frame`,
        );
      }
    }
    assert.deepEqual(
      await readFile(segment as string),
      original.map((b, i) => (i === places.at(-1) ? b ^ 32 : b)),
    );
  });

  test("a flipped bit in a frame followed by valid frames fails open with LOGBOOK_CORRUPTION naming file and offset", async () => {
    await writeRecords(dir, 10);
    const [segment] = await segmentFiles(dir);
    const damagedAt = frameOffset(4);
    await flipBit(segment as string, damagedAt + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES + 3);
    await assert.rejects(Log.open(dir, SMALL), (error) => {
      assert.ok(isLogbookError(error, "LOGBOOK_CORRUPTION"));
      assert.equal(error.file, segment);
      assert.equal(error.offset, damagedAt);
      assert.equal(error.lsn, 4);
      return true;
    });
    // Nothing was changed on disk by the refused open.
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n.endsWith(".broken")),
      [],
    );
  });

  test("strict refuses a torn tail and changes nothing", async () => {
    await writeRecords(dir, 3);
    const [segment] = await segmentFiles(dir);
    await zeroSector(segment as string, frameOffset(3) + FRAME_BYTES - 1);
    const before = await readFile(segment as string);
    await assert.rejects(Log.open(dir, { ...SMALL, recovery: "strict" }), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
    assert.deepEqual(await readFile(segment as string), before);
  });

  test("point-in-time keeps the records before the damage and reports the lost range", async () => {
    await writeRecords(dir, 10);
    const [segment] = await segmentFiles(dir);
    await flipBit(segment as string, frameOffset(6) + FRAME_HEADER_BYTES + 1);
    {
      await using log = await Log.open(dir, { ...SMALL, recovery: "point-in-time" });
      assert.equal(log.lastLsn, 5);
      assert.equal(log.recovery.lostRange?.fromLsn, 6);
      assert.equal(log.recovery.lostRange?.offset, frameOffset(6));
      assert.deepEqual(await readAll(log), range(1, 5));
      assert.equal(await log.append(payloadFor(6)), 6);
    }
    await using log = await Log.open(dir, SMALL);
    assert.deepEqual(await readAll(log), range(1, 6));
  });

  test("salvage opens read-only and reads around a damaged frame, reporting it", async () => {
    await writeRecords(dir, 10);
    const [segment] = await segmentFiles(dir);
    await flipBit(segment as string, frameOffset(4) + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES + 5);
    await using log = await Log.open(dir, { ...SMALL, recovery: "salvage" });
    assert.deepEqual(await readAll(log), [1, 2, 3, 5, 6, 7, 8, 9, 10]);
    assert.equal(log.recovery.skipped[0]?.fromLsn, 4);
    await assert.rejects(log.append(bytes("no")), (e) => isLogbookError(e, "LOGBOOK_READ_ONLY"));
  });

  test("a missing segment in the middle fails open", async () => {
    const big: LogOptions = { segmentBytes: 16 * 1024 + 64, batchBytesMax: 16 * 1024 };
    {
      await using log = await Log.open(dir, big);
      for (let i = 0; i < 40; i++) await log.append(new Uint8Array(2000));
    }
    const segments = await segmentFiles(dir);
    assert.ok(segments.length >= 3);
    await rm(segments[1] as string);
    await assert.rejects(Log.open(dir, big), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && /missing/.test(e.message));
  });

  test("a segment of another log fails open", async () => {
    await writeRecords(dir, 3);
    const other = await tempDir();
    try {
      const big: LogOptions = { segmentBytes: 16 * 1024 + 64, batchBytesMax: 16 * 1024 };
      {
        await using log = await Log.open(other.path, big);
        for (let i = 0; i < 20; i++) await log.append(new Uint8Array(2000));
      }
      const foreign = (await segmentFiles(other.path))[1] as string;
      const name = foreign.slice(other.path.length + 1);
      await copyFile(foreign, join(dir, name));
      await assert.rejects(Log.open(dir, SMALL), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
    } finally {
      await other.cleanup();
    }
  });

  test("a newest segment without a valid header (an unfinished rotation) is set aside", async () => {
    await writeRecords(dir, 3);
    const unfinished = join(dir, segmentName(4));
    await writeFile(unfinished, new Uint8Array(4096));
    {
      await using log = await Log.open(dir, SMALL);
      assert.equal(log.lastLsn, 3);
      assert.deepEqual(log.recovery.setAside, [`${unfinished}.broken`]);
      assert.equal(await log.append(payloadFor(4)), 4);
    }
    await using log = await Log.open(dir, SMALL);
    assert.deepEqual(await readAll(log), range(1, 4));
  });

  test("damage in a sealed segment fails open; with verifyOnOpen tail it fails the read instead", async () => {
    const options: LogOptions = { segmentBytes: 4096 + 64 + 1024, batchBytesMax: 4096 };
    {
      await using log = await Log.open(dir, options);
      for (let i = 0; i < 60; i++) await log.append(payloadFor(log.lastLsn + 1));
    }
    const [first] = await segmentFiles(dir);
    await flipBit(first as string, frameOffset(2) + FRAME_HEADER_BYTES + RECORD_HEADER_BYTES);
    await assert.rejects(Log.open(dir, options), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION"));
    await using log = await Log.open(dir, { ...options, verifyOnOpen: "tail" });
    await assert.rejects(readAll(log), (e) => isLogbookError(e, "LOGBOOK_CORRUPTION") && e.file === first);
  });

  test("any single flipped bit of a segment fails open or loses only a torn tail: damage is never read back", async () => {
    await writeRecords(dir, 12);
    const [segment] = await segmentFiles(dir);
    const pristine = await readFile(segment as string);
    const writtenBytes = frameOffset(13);
    let refused = 0;
    let cut = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: writtenBytes * 8 - 1 }), async (bit) => {
        await writeFile(segment as string, pristine);
        for (const name of await readdir(dir)) if (name.endsWith(".broken")) await rm(join(dir, name));
        await flipBit(segment as string, bit >> 3, bit & 7);
        let log: Log;
        try {
          log = await Log.open(dir, SMALL);
        } catch (error) {
          assert.ok(isLogbookError(error, "LOGBOOK_CORRUPTION"), String(error));
          refused++;
          return;
        }
        try {
          const lsns = await readAll(log);
          // Only the last frame may go, and only as a torn tail.
          assert.ok(lsns.length === 12 || (lsns.length === 11 && log.recovery.tornTail !== undefined), `kept ${lsns.length}`);
          if (lsns.length === 11) cut++;
          assert.deepEqual(lsns, range(1, lsns.length));
        } finally {
          await log.close();
        }
      }),
      { numRuns: 150 },
    );
    assert.ok(refused > 0, "most flips are refused");
    assert.ok(refused + cut === 150);
  });
});
