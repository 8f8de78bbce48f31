import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { FORMAT_VERSION, FRAME_HEADER_BYTES, recordBytes, SEGMENT_HEADER_BYTES } from "../../src/log/format.js";
import { checkFrame, encodeFrameHeader, forEachRecord, recordsChecksum } from "../../src/log/frame.js";
import { encodeRecord } from "../../src/log/record.js";
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  frameSeedOf,
  parseSegmentName,
  segmentName,
} from "../../src/log/segment-header.js";

/** `recordsCrc`: fill header field 24 as the writer does (false: as logs written before it did). */
/** A segment's frame seed, as segment-header.ts derives it; the codec checks frames against it. */
const SEED = 0x1234abcd;

function encodeFrame(firstLsn: number, payloads: Uint8Array[], recordsCrc = true, seed = SEED): Uint8Array {
  const size = FRAME_HEADER_BYTES + payloads.reduce((sum, p) => sum + recordBytes(p.byteLength), 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let offset = FRAME_HEADER_BYTES;
  payloads.forEach((payload, i) => {
    offset += encodeRecord(bytes, view, offset, firstLsn + i, payload);
  });
  const crc = recordsCrc ? recordsChecksum([bytes.subarray(FRAME_HEADER_BYTES)]) : 0;
  encodeFrameHeader(bytes, view, 0, size, firstLsn, payloads.length, 0, crc, seed);
  return bytes;
}

function decodeFrame(bytes: Uint8Array, firstLsn: number, seed = SEED): { lsn: number; payload: Uint8Array }[] | string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const check = checkFrame(bytes, view, 0, bytes.byteLength, bytes.byteLength, firstLsn, seed);
  if (check.kind !== "valid") return check.kind === "damaged" || check.kind === "foreign" ? check.reason : check.kind;
  const out: { lsn: number; payload: Uint8Array }[] = [];
  forEachRecord(view, 0, check.recordCount, (lsn, start, end) => out.push({ lsn, payload: bytes.slice(start, end) }));
  return out;
}

const payloadsArb = fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 8 });
const lsnArb = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 16 });

describe("frame and record codec", () => {
  test("a frame round-trips: every record comes back with its LSN and payload, with or without the frame's CRC", () => {
    fc.assert(
      fc.property(payloadsArb, lsnArb, fc.boolean(), (payloads, firstLsn, recordsCrc) => {
        const decoded = decodeFrame(encodeFrame(firstLsn, payloads, recordsCrc), firstLsn);
        assert.ok(Array.isArray(decoded), String(decoded));
        assert.deepEqual(
          decoded.map((r) => r.lsn),
          payloads.map((_, i) => firstLsn + i),
        );
        decoded.forEach((r, i) => assert.deepEqual(r.payload, payloads[i]));
      }),
    );
  });

  test("any single flipped bit of a frame is detected, never returned as data, with or without the frame's CRC", () => {
    fc.assert(
      fc.property(
        payloadsArb,
        lsnArb,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.boolean(),
        (payloads, firstLsn, at, bit, crc) => {
          const frame = encodeFrame(firstLsn, payloads, crc);
          const offset = at % frame.byteLength;
          frame[offset] = (frame[offset] ?? 0) ^ (1 << bit);
          const decoded = decodeFrame(frame, firstLsn);
          assert.equal(typeof decoded, "string", `flip at ${offset} bit ${bit} went unnoticed`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("a frame whose own CRC is wrong but whose records all check is read by its records' CRCs", () => {
    fc.assert(
      fc.property(payloadsArb, lsnArb, fc.integer({ min: 1, max: 2 ** 32 - 1 }), (payloads, firstLsn, wrongCrc) => {
        const frame = encodeFrame(firstLsn, payloads, false);
        const view = new DataView(frame.buffer);
        const records = recordsChecksum([frame.subarray(FRAME_HEADER_BYTES)]);
        encodeFrameHeader(
          frame,
          view,
          0,
          frame.byteLength,
          firstLsn,
          payloads.length,
          0,
          wrongCrc === records ? 1 : wrongCrc,
          SEED,
        );
        const decoded = decodeFrame(frame, firstLsn);
        assert.ok(Array.isArray(decoded), String(decoded));
        assert.equal(decoded.length, payloads.length);
      }),
    );
  });

  test("a frame's CRC over records that do not fill it in LSN order does not make them valid", () => {
    // A writer's bug, not damage: the CRC matches, the structure does not.
    const frame = encodeFrame(10, [new Uint8Array([1]), new Uint8Array([2])], false);
    const view = new DataView(frame.buffer);
    view.setUint32(FRAME_HEADER_BYTES + 8, 12, true); // the first record says LSN 12
    view.setUint32(FRAME_HEADER_BYTES, 0, true); // its own CRC no longer matters to the fast path
    encodeFrameHeader(frame, view, 0, frame.byteLength, 10, 2, 0, recordsChecksum([frame.subarray(FRAME_HEADER_BYTES)]), SEED);
    assert.equal(decodeFrame(frame, 10), "record LSN is out of sequence");
  });

  test("any truncation of a frame is detected", () => {
    fc.assert(
      fc.property(payloadsArb, lsnArb, fc.nat(), (payloads, firstLsn, cut) => {
        const frame = encodeFrame(firstLsn, payloads);
        // The file ends at `length`: the frame's header promises more than is there.
        const length = cut % frame.byteLength;
        const cutFrame = frame.slice(0, length);
        const decoded = decodeFrame(cutFrame, firstLsn);
        assert.ok(decoded === "end" || (typeof decoded === "string" && decoded !== "short"), String(decoded));
      }),
    );
  });

  test("a frame with another first LSN than expected is never taken for the expected one", () => {
    fc.assert(
      fc.property(
        payloadsArb,
        fc.integer({ min: 1, max: 2 ** 50 }),
        fc.integer({ min: 1, max: 1000 }),
        (payloads, firstLsn, delta) => {
          const frame = encodeFrame(firstLsn + delta, payloads);
          const view = new DataView(frame.buffer);
          const check = checkFrame(frame, view, 0, frame.byteLength, frame.byteLength, firstLsn, SEED);
          assert.equal(check.kind, "damaged");
          const older = checkFrame(frame, view, 0, frame.byteLength, frame.byteLength, firstLsn + 2 * delta, SEED);
          assert.equal(older.kind, "stale");
        },
      ),
    );
  });

  test("a frame written in another segment incarnation (another seed) is never a frame of this one", () => {
    fc.assert(
      fc.property(
        payloadsArb,
        lsnArb,
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        (payloads, firstLsn, ahead, otherSeed) => {
          fc.pre(otherSeed !== SEED);
          // An earlier incarnation's frame carries an earlier LSN than the one expected here.
          const frame = encodeFrame(firstLsn, payloads, true, otherSeed);
          const view = new DataView(frame.buffer);
          const check = checkFrame(frame, view, 0, frame.byteLength, frame.byteLength, firstLsn + ahead, SEED);
          assert.equal(check.kind, "foreign");
          assert.equal(decodeFrame(frame, firstLsn, otherSeed).length, payloads.length, "it checks under its own seed");
          // With the expected LSN and the wrong seed, it is this segment's frame, damaged.
          assert.equal(checkFrame(frame, view, 0, frame.byteLength, frame.byteLength, firstLsn, SEED).kind, "damaged");
        },
      ),
    );
  });

  test("random bytes never decode as a frame", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), lsnArb, (bytes, lsn) => {
        const decoded = decodeFrame(bytes, lsn);
        assert.ok(typeof decoded === "string", "random bytes decoded as records");
      }),
      { numRuns: 3000 },
    );
  });
});

describe("segment header codec", () => {
  const headerArb = fc.record({
    logId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    firstLsn: fc.integer({ min: 2, max: Number.MAX_SAFE_INTEGER }),
    createdAtMs: fc.integer({ min: 0, max: 2 ** 48 }),
  });

  test("round-trips", () => {
    fc.assert(
      fc.property(headerArb, fc.nat(), ({ logId, firstLsn, createdAtMs }, previous) => {
        const header = { logId, firstLsn, previousFirstLsn: previous % firstLsn, createdAtMs };
        const encoded = encodeSegmentHeader(header);
        assert.deepEqual(decodeSegmentHeader(encoded), { ...header, version: FORMAT_VERSION, frameSeed: frameSeedOf(encoded) });
      }),
    );
  });

  test("any flipped bit is detected", () => {
    fc.assert(
      fc.property(headerArb, fc.integer({ min: 0, max: SEGMENT_HEADER_BYTES * 8 - 1 }), (h, bit) => {
        const bytes = encodeSegmentHeader({ ...h, previousFirstLsn: 0 });
        bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        assert.equal(typeof decodeSegmentHeader(bytes), "string");
      }),
    );
  });

  test("segment names carry the first LSN and nothing else parses", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (lsn) => {
        assert.equal(parseSegmentName(segmentName(lsn)), lsn);
      }),
    );
    for (const name of [
      "1.log",
      "spare.log.tmp",
      "00000000000000000001.log.broken",
      "0000000000000000000a.log",
      "00000000000000000000.log",
    ]) {
      assert.equal(parseSegmentName(name), undefined, name);
    }
  });
});
