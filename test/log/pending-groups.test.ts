/**
 * The writer's queue of published groups against a model (an array of records): pushes and
 * shifts wrapping around the ring and growing it at every position of the head, the oldest
 * group's fields, and draining its rejecters in order.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { PendingGroups } from "../../src/log/pending-groups.js";

interface Group {
  firstLsn: number;
  lastLsn: number;
  start: number;
  bytes: number;
  id: number;
}

test("the pending groups agree with a FIFO model through wrap-around and growth", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(fc.record({ push: fc.integer({ min: 1, max: 1500 }) }), fc.record({ shift: fc.integer({ min: 1, max: 1500 }) })),
        {
          maxLength: 20,
        },
      ),
      (steps) => {
        const pending = new PendingGroups();
        const model: Group[] = [];
        const resolved: number[] = [];
        const rejected: number[] = [];
        let next = 0;
        let lsn = 1;
        for (const step of steps) {
          if ("push" in step) {
            for (let i = 0; i < step.push; i++) {
              const id = next++;
              const group = { firstLsn: lsn, lastLsn: lsn + (id % 3), start: (id * 97) % 65_536, bytes: 24 + (id % 50), id };
              lsn = group.lastLsn + 1;
              pending.push(
                group.firstLsn,
                group.lastLsn,
                group.start,
                group.bytes,
                () => resolved.push(id),
                () => rejected.push(id),
              );
              model.push(group);
            }
          } else {
            for (let i = 0; i < step.shift && model.length > 0; i++) {
              const group = model.shift() as Group;
              assert.equal(pending.oldestStart, group.start);
              assert.equal(pending.oldestFirstLsn, group.firstLsn);
              assert.equal(pending.oldestLastLsn, group.lastLsn);
              assert.equal(pending.oldestBytes, group.bytes);
              pending.shift()(group.firstLsn);
              assert.equal(resolved.at(-1), group.id);
            }
          }
          assert.equal(pending.length, model.length);
          if (model.length === 0) assert.equal(pending.oldestStart, -1);
        }
        // What is left is rejected in order, wherever the head has wrapped to.
        for (const reject of pending.drainRejecters()) reject(new Error("failed"));
        assert.deepEqual(
          rejected,
          model.map((group) => group.id),
        );
        assert.equal(pending.length, 0);
      },
    ),
    { numRuns: 200 },
  );
});

test("shifting an empty queue is a bug, not an undefined", () => {
  assert.throws(() => new PendingGroups().shift(), { name: "AssertionError" });
});
