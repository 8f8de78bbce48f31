import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { SequencedWrites } from "../../src/store/sequenced-writes.js";

type Write = { key: string; value: string | undefined; lsn: number };

function drained(writes: SequencedWrites, upTo: number): Write[] {
  const out: Write[] = [];
  writes.drainUpTo(upTo, (key, value, lsn) => out.push({ key, value, lsn }));
  return out;
}

test("writes drain oldest first, only up to the acknowledged LSN, and a batch's writes share one", () => {
  const writes = new SequencedWrites();
  writes.add("a", "1", 1);
  writes.add("b", undefined, 2);
  writes.add("a", "2", 3);
  writes.add("c", "3", 3);
  assert.equal(writes.size, 4);
  assert.deepEqual(drained(writes, 2), [
    { key: "a", value: "1", lsn: 1 },
    { key: "b", value: undefined, lsn: 2 },
  ]);
  assert.equal(writes.size, 2);
  assert.deepEqual(drained(writes, 2), []);
  assert.deepEqual(
    drained(writes, 10).map((w) => w.lsn),
    [3, 3],
  );
  assert.equal(writes.size, 0);
});

test("the overlay answers a key's latest sequenced version whether built before or after the writes", () => {
  // Property: at every step, versionOf equals a model computed from the queue's contents.
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant("add" as const), key: fc.constantFrom("a", "b", "c"), put: fc.boolean() }),
          fc.record({ kind: fc.constant("ask" as const), key: fc.constantFrom("a", "b", "c", "d") }),
          fc.record({ kind: fc.constant("drain" as const), back: fc.nat(3) }),
        ),
        { maxLength: 60 },
      ),
      (steps) => {
        const writes = new SequencedWrites();
        const model: Write[] = [];
        let lsn = 0;
        for (const step of steps) {
          if (step.kind === "add") {
            lsn++;
            const value = step.put ? `v${lsn}` : undefined;
            writes.add(step.key, value, lsn);
            model.push({ key: step.key, value, lsn });
          } else if (step.kind === "ask") {
            const last = model.filter((w) => w.key === step.key).at(-1);
            const expected = last === undefined ? undefined : last.value === undefined ? 0 : last.lsn;
            assert.equal(writes.versionOf(step.key), expected);
          } else {
            const upTo = lsn - step.back;
            const expected = model.filter((w) => w.lsn <= upTo);
            assert.deepEqual(drained(writes, upTo), expected);
            model.splice(0, expected.length);
          }
          assert.equal(writes.size, model.length);
        }
      },
    ),
  );
});

test("a long queue drained in parts keeps its order across compaction, and clear forgets everything", () => {
  const writes = new SequencedWrites();
  for (let lsn = 1; lsn <= 5000; lsn++) writes.add(`k${lsn % 7}`, String(lsn), lsn);
  assert.equal(writes.versionOf("k3"), 4994); // 4994 % 7 === 3
  const seen: number[] = [];
  for (let upTo = 700; upTo <= 5000; upTo += 700) writes.drainUpTo(upTo, (_k, _v, lsn) => seen.push(lsn));
  writes.drainUpTo(5000, (_k, _v, lsn) => seen.push(lsn));
  assert.deepEqual(
    seen,
    Array.from({ length: 5000 }, (_, i) => i + 1),
  );
  writes.add("x", "1", 5001);
  writes.clear();
  assert.equal(writes.size, 0);
  assert.equal(writes.versionOf("x"), undefined);
});
