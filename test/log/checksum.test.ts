import assert from "node:assert/strict";
import { test } from "node:test";
import { crc32 as zlibCrc32 } from "node:zlib";
import fc from "fast-check";
import { crc32, crc32Range } from "../../src/log/checksum.js";

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
