import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { crc32, crc32Range, crc32Update } from "../../src/log/checksum.js";

test("the table CRC-32 equals zlib's for every length, on both sides of the switch", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(), (bytes, cut) => {
      assert.equal(crc32(bytes), zlibCrc32(bytes) >>> 0);
      const start = bytes.length === 0 ? 0 : cut % bytes.length;
      assert.equal(crc32Range(bytes, start, bytes.length), zlibCrc32(bytes.subarray(start)) >>> 0);
    }),
    { numRuns: 2000 },
  );
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926, "the standard check value");
});

test("a CRC-32 continued over pieces equals the CRC of the whole, table and zlib sides alike", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2_000 }), fc.array(fc.nat(), { maxLength: 6 }), (bytes, cuts) => {
      const bounds = [0, ...cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b), bytes.length];
      let crc = 0;
      for (let i = 1; i < bounds.length; i++) crc = crc32Update(crc, bytes, bounds[i - 1] as number, bounds[i] as number);
      assert.equal(crc, zlibCrc32(bytes) >>> 0);
    }),
    { numRuns: 1000 },
  );
});
