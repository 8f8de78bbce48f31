/**
 * The store's B+ tree against a model (a Map with its keys sorted on demand): random sets,
 * deletes, bulk loads and clones, with every value returned checked, the tree's shape checked
 * after each step, scans from random keys in both directions, and every clone still showing
 * the state it was taken at while the original (and the clone itself) are written after.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { BTree, NODE_ENTRIES_MAX } from "../../src/store/btree.js";

type Model = Map<string, number>;

function sortedEntries(model: Model): [string, number][] {
  return [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** What `entries(from, reverse)` must yield, from the model. */
function expectedScan(model: Model, from: string | undefined, reverse: boolean): [string, number][] {
  const all = sortedEntries(model);
  if (reverse) return all.filter(([key]) => from === undefined || key <= from).reverse();
  return all.filter(([key]) => from === undefined || key >= from);
}

function assertSame(tree: BTree<number>, model: Model, label: string): void {
  tree.assertValid();
  assert.equal(tree.size, model.size, `${label}: size`);
  assert.deepEqual([...tree.entries(undefined, false)], sortedEntries(model), `${label}: entries`);
}

// Few distinct keys so that sets overwrite and deletes hit; chars across the whole byte range.
const keyArbitrary = fc.oneof(
  fc.integer({ min: 0, max: 3000 }).map((i) => `k${String(i).padStart(4, "0")}`),
  // Between two of those: lands between the first two keys of a leaf, and the like.
  fc.integer({ min: 0, max: 3000 }).map((i) => `k${String(i).padStart(4, "0")}+`),
  fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
);

const stepArbitrary = fc.oneof(
  { weight: 10, arbitrary: fc.record({ type: fc.constant("set" as const), key: keyArbitrary, value: fc.integer() }) },
  { weight: 6, arbitrary: fc.record({ type: fc.constant("delete" as const), key: keyArbitrary }) },
  // Ascending runs fill leaves (and move entries to neighbours) the way appends do.
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant("run" as const),
      first: fc.integer({ min: 0, max: 3000 }),
      count: fc.integer({ min: 1, max: 80 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("scan" as const),
      from: fc.option(keyArbitrary, { nil: undefined }),
      reverse: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("clone" as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("writeClone" as const), key: keyArbitrary, value: fc.integer() }) },
);

test("the tree agrees with a sorted map through sets, deletes, scans and clones", () => {
  fc.assert(
    fc.property(fc.nat(1500), fc.array(stepArbitrary, { maxLength: 600 }), (loaded, steps) => {
      const model: Model = new Map();
      for (let i = 0; i < loaded; i++) model.set(`k${String(i * 2).padStart(4, "0")}`, i);
      const initial = sortedEntries(model);
      const tree = BTree.fromSorted(
        initial.map(([key]) => key),
        initial.map(([, value]) => value),
      );
      assertSame(tree, model, "loaded");
      const clones: { tree: BTree<number>; model: Model }[] = [];
      for (const step of steps) {
        if (step.type === "set") {
          assert.equal(tree.set(step.key, step.value), model.get(step.key), "set returns what it replaced");
          model.set(step.key, step.value);
        } else if (step.type === "delete") {
          assert.equal(tree.delete(step.key), model.get(step.key), "delete returns what it removed");
          model.delete(step.key);
        } else if (step.type === "run") {
          for (let i = step.first; i < step.first + step.count; i++) {
            const key = `k${String(i).padStart(4, "0")}`;
            assert.equal(tree.set(key, i), model.get(key));
            model.set(key, i);
          }
        } else if (step.type === "scan") {
          assert.deepEqual([...tree.entries(step.from, step.reverse)], expectedScan(model, step.from, step.reverse));
        } else if (step.type === "clone") {
          clones.push({ tree: tree.clone(), model: new Map(model) });
        } else if (clones.length > 0) {
          // A write to a clone shows in that clone only.
          const clone = clones[clones.length - 1] as { tree: BTree<number>; model: Model };
          assert.equal(clone.tree.set(step.key, step.value), clone.model.get(step.key));
          clone.model.set(step.key, step.value);
        }
        tree.assertValid();
        const probe = "key" in step ? step.key : "k0000";
        assert.equal(tree.get(probe), model.get(probe));
      }
      assertSame(tree, model, "after the steps");
      for (const [i, clone] of clones.entries()) assertSame(clone.tree, clone.model, `clone ${i}`);
    }),
    { numRuns: 200 },
  );
});

test("a large tree keeps its shape through growing, emptying and growing again", () => {
  const tree = new BTree<number>();
  const count = NODE_ENTRIES_MAX ** 3 + 17;
  // A fixed permutation: ascending, descending and scattered inserts all split differently.
  const order = Array.from({ length: count }, (_, i) => (i * 7919) % count);
  for (const i of order) assert.equal(tree.set(`key-${String(i).padStart(6, "0")}`, i), undefined);
  tree.assertValid();
  assert.equal(tree.size, count);
  const snapshot = tree.clone();
  for (const i of order) assert.equal(tree.delete(`key-${String(i).padStart(6, "0")}`), i);
  tree.assertValid();
  assert.equal(tree.size, 0);
  assert.deepEqual([...tree.entries(undefined, false)], []);
  assert.deepEqual([...tree.entries("key-5", true)], []);
  // The snapshot taken when full is whole.
  snapshot.assertValid();
  let expected = 0;
  for (const [key, value] of snapshot.entries(undefined, false)) {
    assert.equal(value, expected);
    assert.equal(key, `key-${String(expected).padStart(6, "0")}`);
    expected++;
  }
  assert.equal(expected, count);
  for (let i = count - 1; i >= 0; i--) tree.set(`key-${String(i).padStart(6, "0")}`, -i);
  tree.assertValid();
  assert.equal(tree.get("key-000100"), -100);
  assert.equal(snapshot.get("key-000100"), 100);
});

test("bulk loading rejects keys and values of different lengths", () => {
  assert.throws(() => BTree.fromSorted(["a", "b"], [1]), { name: "AssertionError" });
});

test("a full leaf that hands an entry to a neighbour keeps every key in its range, wherever the key set falls", () => {
  const name = (i: number) => `k${String(i).padStart(3, "0")}`;
  // Three full leaves; one entry deleted from the left or the right one, so the middle one has
  // a neighbour with room; then a key set on every key of the middle leaf and in every gap.
  for (const emptied of [0, 2]) {
    for (const key of Array.from({ length: 34 }, (_, i) => name(31 + i)).flatMap((k) => [k, `${k}+`])) {
      const keys = Array.from({ length: 3 * NODE_ENTRIES_MAX }, (_, i) => name(i));
      const tree = BTree.fromSorted(
        keys,
        keys.map((_, i) => i),
      );
      const model = new Map(keys.map((key, i) => [key, i]));
      const gone = name(emptied * NODE_ENTRIES_MAX + 5);
      tree.delete(gone);
      model.delete(gone);
      assert.equal(tree.set(key, -1), model.get(key));
      model.set(key, -1);
      assertSame(tree, model, `neighbour ${emptied}, set ${key}`);
      for (const [k, v] of model) assert.equal(tree.get(k), v, `get ${k}`);
    }
  }
});

test("countRange and keyAtRank agree with the sorted keys, for any range and rank", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(keyArbitrary, { maxLength: 600 }),
      fc.array(keyArbitrary, { maxLength: 200 }),
      keyArbitrary,
      keyArbitrary,
      fc.nat({ max: 700 }),
      (keys, deleted, a, b, rank) => {
        const tree = new BTree<number>();
        for (const key of keys) tree.set(key, 1);
        for (const key of deleted) tree.delete(key);
        const sorted = [...tree.entries(undefined, false)].map(([key]) => key);
        const [gte, lt] = a <= b ? [a, b] : [b, a];
        assert.equal(tree.countRange(gte, lt), sorted.filter((key) => key >= gte && key < lt).length);
        assert.equal(tree.countRange(gte, undefined), sorted.filter((key) => key >= gte).length);
        assert.equal(tree.keyAtRank(gte, rank), sorted.filter((key) => key >= gte)[rank]);
      },
    ),
    { numRuns: 300 },
  );
});
