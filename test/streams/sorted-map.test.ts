/**
 * The sorted map against a model (a Map sorted on demand): random sets, deletes and seeks,
 * with every answer checked; and a PEL-sized map built in order stays shallow enough to use.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { SortedMap } from "../../src/streams/sorted-map.js";

const key = fc.string({ maxLength: 3, unit: fc.constantFrom("a", "b", "c", "\0", "\xff") });
type Step = { op: "set"; key: string; value: number } | { op: "delete"; key: string } | { op: "ceiling"; key: string };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant("set" as const), key, value: fc.integer() }),
  fc.record({ op: fc.constant("delete" as const), key }),
  fc.record({ op: fc.constant("ceiling" as const), key }),
);

test("the sorted map agrees with a model on every set, delete, seek and scan", () => {
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      const map = new SortedMap<number>();
      const model = new Map<string, number>();
      for (const s of steps) {
        const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        if (s.op === "set") {
          assert.equal(map.set(s.key, s.value), !model.has(s.key));
          model.set(s.key, s.value);
        } else if (s.op === "delete") {
          assert.equal(map.delete(s.key), model.delete(s.key));
        } else {
          assert.deepEqual(
            map.ceiling(s.key),
            sorted.find(([k]) => k >= s.key),
          );
          assert.deepEqual(
            [...map.entries(s.key)],
            sorted.filter(([k]) => k >= s.key),
          );
        }
      }
      const sorted = [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      assert.equal(map.size, model.size);
      assert.deepEqual([...map.entries()], sorted);
      assert.equal(map.firstKey(), sorted[0]?.[0]);
      assert.equal(map.lastKey(), sorted.at(-1)?.[0]);
    }),
    { numRuns: 300 },
  );
});

test("200k keys inserted in order, then deleted in order, keep every operation working", () => {
  const map = new SortedMap<number>();
  const keyOf = (i: number) => i.toString(16).padStart(16, "0");
  for (let i = 0; i < 200_000; i++) map.set(keyOf(i), i);
  assert.equal(map.size, 200_000);
  assert.deepEqual(map.ceiling(keyOf(123_456)), [keyOf(123_456), 123_456]);
  for (let i = 0; i < 200_000; i += 2) assert.equal(map.delete(keyOf(i)), true);
  assert.equal(map.firstKey(), keyOf(1));
  assert.equal([...map.entries()].length, 100_000);
});
