/**
 * Frames past the recovered end of a segment — left by a power cut that lost an earlier sector,
 * by an earlier use of a recycled segment, or by a lost write — are never read as data, and
 * zeros followed by valid frames of the segment are damage, not the end of the log.
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { afterEach, beforeEach, describe, test } from "node:test";
import { crc32 } from "node:zlib";
import { isLogbookError, Log, type LogOptions, Store } from "../../src/index.js";
import { FRAME_HEADER_BYTES, recordBytes, SEGMENT_HEADER_BYTES } from "../../src/log/format.js";
import { readBytes, segmentFiles, writeBytes, zeroRange } from "../support/surgery.js";
import { bytes, tempDir, text } from "../support/temp.js";

const PAYLOAD_BYTES = 100;
const FRAME_BYTES = FRAME_HEADER_BYTES + recordBytes(PAYLOAD_BYTES);
const SMALL: LogOptions = { segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 };

function payload(lsn: number, run: string): Uint8Array {
  return bytes(`${run} ${lsn} `.padEnd(PAYLOAD_BYTES, "."));
}

function frameOffset(lsn: number): number {
  return SEGMENT_HEADER_BYTES + (lsn - 1) * FRAME_BYTES;
}

async function readAll(log: Log): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  for await (const record of log.read()) found.set(record.lsn, text(record.payload).replace(/ \.*$/, ""));
  return found;
}

describe("frames bound to their segment", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("frames a power cut kept past a lost sector never come back after the next run appends (sync interval)", async () => {
    const options: LogOptions = { ...SMALL, sync: "interval", syncIntervalMs: 60_000 };
    {
      await using log = await Log.open(dir, options);
      for (let lsn = 1; lsn <= 60; lsn++) await log.append(payload(lsn, "v"));
      await log.waitFor(50, "durable").catch(() => undefined);
    }
    const [segment] = await segmentFiles(dir);
    assert.ok(segment);
    // Keep run 1's frames 1..60 as the page cache had them, then lose the frames of LSN 41..50
    // (not durable under sync "interval") while later ones survive: what a power cut may leave.
    const kept = await readBytes(segment, frameOffset(51), 10 * FRAME_BYTES);
    await zeroRange(segment, frameOffset(41), 10 * FRAME_BYTES);
    await writeBytes(segment, frameOffset(51), kept);
    // Pretend they were written while 41..50 were not durable yet: the header's "unsynced before".
    {
      await using log = await Log.open(dir, options);
      assert.equal(log.lastLsn, 40, "the log ends before the lost frames");
      for (let lsn = 41; lsn <= 55; lsn++) await log.append(payload(lsn, "w"));
    }
    await using log = await Log.open(dir, { ...options, recovery: "strict" });
    const found = await readAll(log);
    assert.equal(log.lastLsn, 55, "run 2's records end the log; run 1's lost records are not read");
    assert.equal(found.get(55), "w 55");
    assert.equal(found.get(41), "w 41");
  });

  test("zeros followed by valid frames of the newest segment fail open with LOGBOOK_CORRUPTION (sync always)", async () => {
    {
      await using log = await Log.open(dir, SMALL);
      for (let lsn = 1; lsn <= 50; lsn++) await log.append(payload(lsn, "v"));
    }
    const [segment] = await segmentFiles(dir);
    assert.ok(segment);
    // The last write-back of a page is lost: zeros from record 11 to the page's end.
    const from = frameOffset(11);
    await zeroRange(segment, from, 4096 - from);
    for (const recovery of ["strict", "tolerate-tail"] as const) {
      await assert.rejects(
        Log.open(dir, { ...SMALL, recovery }),
        (error: unknown) => isLogbookError(error, "LOGBOOK_CORRUPTION") && (error.offset as number) === from,
        `${recovery} refuses`,
      );
    }
    // Salvage still reads what is intact.
    await using log = await Log.open(dir, { ...SMALL, recovery: "salvage", readOnly: true });
    const found = await readAll(log);
    assert.equal(found.get(10), "v 10");
    assert.equal(found.get(50), "v 50");
  });

  test("a recycled segment's old frames do not make a cleanly closed log look torn", async () => {
    const options: LogOptions = { segmentBytes: 16 * 1024, batchBytesMax: 4 * 1024, preallocate: true };
    let lsn = 0;
    {
      await using log = await Log.open(dir, options);
      const bigger = (n: number) => bytes(`r ${n} `.padEnd(300 + (n % 7) * 40, "."));
      const appendUntilRotation = async () => {
        const segments = log.segments().length;
        while (log.segments().length === segments) await log.append(bigger(++lsn));
      };
      // Free the old segment right after a rotation, before a new spare is zero-filled: it
      // becomes the spare, and the next rotation writes over its old frames.
      for (let round = 0; round < 3; round++) {
        await appendUntilRotation();
        await log.truncateBefore(log.lastLsn);
        await appendUntilRotation();
        for (let i = 0; i < 3 + round; i++) await log.append(payload(++lsn, "tail"));
      }
    }
    for (let reopen = 0; reopen < 3; reopen++) {
      await using log = await Log.open(dir, { ...options, recovery: "strict" });
      assert.equal(log.lastLsn, lsn, "every record is there");
      assert.equal(log.recovery.tornTail, undefined, "no torn tail is reported");
      for (let i = 0; i < 3; i++) await log.append(payload(++lsn, "again"));
    }
    const names = await readdir(dir);
    assert.deepEqual(
      names.filter((name) => name.endsWith(".broken")),
      [],
      "nothing was set aside",
    );
  });

  test("a store written again after a power cut lost its tail reopens with the second run's values", async () => {
    const options = { sync: "interval" as const, syncIntervalMs: 60_000, segmentBytes: 64 * 1024, batchBytesMax: 16 * 1024 };
    {
      await using store = await Store.open(dir, options);
      for (let i = 1; i <= 60; i++) await store.put("k", `v${String(i).padStart(3, "0")}`);
    }
    const [segment] = await segmentFiles(`${dir}/log`);
    assert.ok(segment);
    // Lose a run of unsynced frames in the middle and keep the later ones, as a power cut may.
    const all = await readBytes(segment, SEGMENT_HEADER_BYTES, 60 * 256);
    // Zero the frames from the 40th write on for a few KiB, keep what follows.
    const frameStarts: number[] = [];
    for (let at = 0; at < all.length - 4; at += 8) if (all.toString("latin1", at, at + 4) === "LBFR") frameStarts.push(at);
    const cutFrom = SEGMENT_HEADER_BYTES + (frameStarts[39] as number);
    const cutTo = SEGMENT_HEADER_BYTES + (frameStarts[45] as number);
    await zeroRange(segment, cutFrom, cutTo - cutFrom);
    {
      await using store = await Store.open(dir, options);
      const before = await store.get("k");
      assert.equal(before?.value, "v039");
      for (let i = 40; i <= 55; i++) await store.put("k", `w${String(i).padStart(3, "0")}`);
    }
    await using store = await Store.open(dir, options);
    assert.equal((await store.get("k"))?.value, "w055");
  });

  test("a version 1 log (frames not bound to their segment) is read and appended to", async () => {
    {
      await using log = await Log.open(dir, SMALL);
      for (let lsn = 1; lsn <= 5; lsn++) await log.append(payload(lsn, "v"));
    }
    const [segment] = await segmentFiles(dir);
    assert.ok(segment);
    // Rewrite it as version 1 wrote it: version 1 in the header, frame CRCs over their own bytes.
    const header = await readBytes(segment, 0, SEGMENT_HEADER_BYTES);
    header.writeUInt16LE(1, 8);
    header.writeUInt32LE(crc32(header.subarray(0, 60)), 60);
    await writeBytes(segment, 0, header);
    for (let lsn = 1; lsn <= 5; lsn++) {
      const frameHeader = await readBytes(segment, frameOffset(lsn), FRAME_HEADER_BYTES);
      frameHeader.writeUInt32LE(crc32(frameHeader.subarray(0, 28)), 28);
      await writeBytes(segment, frameOffset(lsn), frameHeader);
    }
    {
      await using log = await Log.open(dir, { ...SMALL, recovery: "strict" });
      assert.equal(log.lastLsn, 5);
      for (let lsn = 6; lsn <= 8; lsn++) await log.append(payload(lsn, "w"));
    }
    await using log = await Log.open(dir, { ...SMALL, recovery: "strict" });
    const found = await readAll(log);
    assert.equal(found.size, 8);
    assert.equal(found.get(5), "v 5");
    assert.equal(found.get(8), "w 8");
  });

  test("a segment of an unknown format version fails open with LOGBOOK_CORRUPTION", async () => {
    {
      await using log = await Log.open(dir, SMALL);
      for (let lsn = 1; lsn <= 3; lsn++) await log.append(payload(lsn, "v"));
    }
    const [segment] = await segmentFiles(dir);
    assert.ok(segment);
    const header = await readBytes(segment, 0, SEGMENT_HEADER_BYTES);
    header.writeUInt16LE(3, 8);
    header.writeUInt32LE(crc32(header.subarray(0, 60)), 60);
    await writeBytes(segment, 0, header);
    await assert.rejects(Log.open(dir, SMALL), (error: unknown) => isLogbookError(error, "LOGBOOK_CORRUPTION"));
  });
});
