import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { NO_CHANGE, RangeDelete, StoredWrite } from "../../src/store/queued-effects.js";
import { SequencedWrites } from "../../src/store/sequenced-writes.js";

type Write = { key: string; value: unknown; lsn: number };

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

test("a long queue drained in parts keeps its order across compaction, and failAll forgets everything", () => {
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
  writes.failAll(new Error("the log failed"));
  assert.equal(writes.size, 0);
  assert.equal(writes.versionOf("x"), undefined);
});

test("each writer is resolved with its LSN when its write drains, or rejected by failAll, exactly once", () => {
  // Property over adds (single writes and batches sharing an LSN), partial drains that cross
  // the compaction threshold, and failures: the settlers match a model, and the order of
  // application is the order of sequencing.
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          {
            weight: 6,
            arbitrary: fc.record({
              kind: fc.constant("add" as const),
              operations: fc.integer({ min: 1, max: 3 }),
              count: fc.integer({ min: 1, max: 900 }),
            }),
          },
          { weight: 3, arbitrary: fc.record({ kind: fc.constant("drain" as const), keep: fc.nat(1200) }) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant("fail" as const) }) },
        ),
        { maxLength: 30 },
      ),
      (steps) => {
        const writes = new SequencedWrites();
        const settled = new Map<number, string>();
        const queued: number[] = [];
        const operationsOf = new Map<number, number>();
        let lsn = 0;
        const applied: number[] = [];
        let expectedApplied: number[] = [];
        for (const step of steps) {
          if (step.kind === "add") {
            for (let n = 0; n < step.count; n++) {
              lsn++;
              const at = lsn;
              for (let op = 1; op < step.operations; op++) writes.add(`k${op}`, "v", at);
              writes.add(
                "last",
                undefined,
                at,
                (version) => {
                  assert.equal(settled.get(at), undefined, "settled once");
                  settled.set(at, `resolved ${version}`);
                },
                (error) => {
                  assert.equal(settled.get(at), undefined, "settled once");
                  settled.set(at, `rejected ${(error as Error).message}`);
                },
              );
              queued.push(at);
              operationsOf.set(at, step.operations);
              for (let op = 0; op < step.operations; op++) expectedApplied.push(at);
            }
          } else if (step.kind === "drain") {
            const upTo = Math.max(0, lsn - step.keep);
            writes.drainUpTo(upTo, (_key, _value, at) => applied.push(at));
            while (queued.length > 0 && (queued[0] as number) <= upTo) {
              const at = queued.shift() as number;
              assert.equal(settled.get(at), `resolved ${at}`);
            }
          } else {
            writes.failAll(new Error("failed"));
            const failed = new Set(queued.splice(0));
            for (const at of failed) assert.equal(settled.get(at), "rejected failed");
            expectedApplied = expectedApplied.filter((at) => !failed.has(at));
          }
          for (const at of queued) assert.equal(settled.get(at), undefined, "a queued writer is not settled yet");
          assert.equal(
            writes.size,
            queued.reduce((sum, at) => sum + (operationsOf.get(at) as number), 0),
            "the queue holds every operation of the queued writes",
          );
        }
        assert.deepEqual(applied, expectedApplied.slice(0, applied.length));
      },
    ),
    { numRuns: 150 },
  );
});

test("the overlay reads range deletes in record order, and a key's newest queued value by its LSN", () => {
  const writes = new SequencedWrites();
  writes.add("a", "1", 1);
  writes.add("b", "2", 2);
  assert.equal(writes.versionOf("a"), 1, "the overlay is built here");
  // One record: a put before the range (deleted by it), the range, a put after it (kept).
  writes.add("c", "3", 3);
  writes.add("a", new RangeDelete("a", "d"), 3);
  writes.add("b", "4", 3);
  writes.add("z", new StoredWrite("stored"), 4);
  writes.add("y", NO_CHANGE, 4);
  assert.deepEqual(
    ["a", "b", "c", "d", "y", "z"].map((key) => writes.versionOf(key)),
    [0, 3, 0, undefined, undefined, 4],
  );
  assert.equal(writes.latestLsnOf("a"), 3);
  assert.deepEqual(writes.newestString("b"), { queued: true, value: "4", lsn: 3, streamAfter: false });
  assert.deepEqual(writes.newestString("c"), { queued: true, value: undefined, lsn: 3, streamAfter: false });
  assert.deepEqual(writes.newestString("z"), { queued: true, value: new StoredWrite("stored"), lsn: 4, streamAfter: false });
  assert.deepEqual(writes.newestString("y"), { queued: false, streamAfter: false }, "no change is no write");
  writes.drainUpTo(3, () => undefined);
  assert.equal(writes.versionOf("a"), undefined, "applied: the range is no longer queued");
  assert.equal(writes.versionOf("z"), 4);
  const rebuilt = new SequencedWrites();
  rebuilt.add("c", "3", 3);
  rebuilt.add("a", new RangeDelete("a", ""), 3);
  rebuilt.add("q", { command: "a stream command" }, 4);
  assert.equal(rebuilt.versionOf("c"), 0, "built from the queue at once, the same");
  assert.deepEqual(rebuilt.newestString("q"), { queued: true, value: undefined, lsn: 3, streamAfter: true });
});
