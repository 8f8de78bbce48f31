/**
 * What the state holds per key (one string: the version, then the value's bytes) gives back
 * exactly the value and version it was made from, for every version an LSN can be and values
 * of any bytes and length, built from a string or from bytes alike.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { LSN_MAX } from "../../src/log/format.js";
import { storedFromBytes, storedValue, storedValueBytes, storedVersion, toStored } from "../../src/store/state.js";

test("a stored value and version round-trip, from a string or from bytes", () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 70_000, maxLength: 140_000 })),
      fc.oneof(fc.constantFrom(1, 2 ** 31 - 1, 2 ** 31, 2 ** 32, LSN_MAX), fc.integer({ min: 1, max: LSN_MAX })),
      fc.nat(20),
      (value, version, margin) => {
        const encoded = Buffer.from(value).toString("latin1");
        const fromString = toStored(encoded, version);
        const padded = Buffer.concat([Buffer.alloc(margin, 7), value, Buffer.alloc(margin, 9)]);
        const fromBytes = storedFromBytes(padded, margin, margin + value.byteLength, version);
        for (const stored of [fromString, fromBytes]) {
          assert.equal(storedVersion(stored), version);
          assert.equal(storedValue(stored), encoded);
          assert.equal(storedValueBytes(stored), value.byteLength);
        }
      },
    ),
    { numRuns: 300 },
  );
});
