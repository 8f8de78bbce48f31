/**
 * The replay key table against a Map: any sequence of sets over byte keys (empty, short, long,
 * sharing prefixes, enough to grow every array several times) reads back the same.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { KeyTable } from "../../src/store/key-table.js";

test("a key table agrees with a Map: values, entries in first-set order, absent keys, across chunks", () => {
  const keyArb = fc.oneof(
    fc.uint8Array({ maxLength: 3 }),
    fc.uint8Array({ minLength: 10, maxLength: 40 }),
    fc.integer({ min: 0, max: 5000 }).map((i) => new TextEncoder().encode(`key-${String(i).padStart(12, "0")}`)),
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(keyArb, fc.integer({ min: 0, max: 2 ** 40 })), { maxLength: 3000 }),
      // Chunks of 32 bytes: keys cross chunks, and some are longer than a chunk.
      fc.constantFrom(undefined, 32),
      (sets, chunkBytesMax) => {
        const table = new KeyTable(chunkBytesMax);
        const model = new Map<string, number>();
        for (const [key, value] of sets) {
          // Keys come from inside a larger buffer, as records do.
          const memory = new Uint8Array(key.length + 7);
          memory.set(key, 3);
          table.set(memory, 3, 3 + key.length, value);
          model.set(Buffer.from(key).toString("latin1"), value);
        }
        assert.equal(table.size, model.size);
        const seen: [string, number][] = [];
        table.forEach((key, value, entry) => {
          assert.equal(entry, seen.length);
          seen.push([key, value]);
        });
        assert.deepEqual(seen, [...model]);
        for (const [key, value] of model) {
          const bytes = Buffer.from(key, "latin1");
          assert.equal(table.valueAt(table.entryOf(bytes, 0, bytes.length)), value);
        }
        const absent = Buffer.from("never set, longer than any key set here: 0123456789abcdef", "latin1");
        assert.equal(table.entryOf(absent, 0, absent.length), -1);
      },
    ),
    { numRuns: 80 },
  );
});

test("a million distinct keys: every one found, none confused", () => {
  const table = new KeyTable();
  const key = Buffer.alloc(16);
  for (let i = 0; i < 1_000_000; i++) {
    key.write(`k${String(i).padStart(15, "0")}`, "latin1");
    table.set(key, 0, 16, i + 1);
  }
  assert.equal(table.size, 1_000_000);
  for (let i = 0; i < 1_000_000; i += 997) {
    key.write(`k${String(i).padStart(15, "0")}`, "latin1");
    assert.equal(table.valueAt(table.entryOf(key, 0, 16)), i + 1);
  }
});
