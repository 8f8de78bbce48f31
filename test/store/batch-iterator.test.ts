import assert from "node:assert/strict";
import { test } from "node:test";
import { BatchIterator } from "../../src/store/batch-iterator.js";

async function* batches(log: string[], fail = false): AsyncGenerator<number[]> {
  try {
    yield [1, 2];
    yield [];
    yield [3];
    if (fail) throw new Error("source failed");
    yield [4, 5, 6];
  } finally {
    log.push("source closed");
  }
}

test("a batch iterator yields every item in order, also to next() calls made before the last one settled", async () => {
  const log: string[] = [];
  const items = new BatchIterator(batches(log));
  const results = await Promise.all(Array.from({ length: 8 }, () => items.next()));
  assert.deepEqual(
    results.map((r) => (r.done ? "done" : r.value)),
    [1, 2, 3, 4, 5, 6, "done", "done"],
  );
  assert.deepEqual(log, ["source closed"]);
  const all: number[] = [];
  for await (const item of new BatchIterator(batches(log))) all.push(item);
  assert.deepEqual(all, [1, 2, 3, 4, 5, 6]);
});

test("leaving a batch iterator early closes its source; throw() rejects with the error given", async () => {
  const log: string[] = [];
  for await (const item of new BatchIterator(batches(log))) if (item === 3) break;
  assert.deepEqual(log, ["source closed"]);
  const items = new BatchIterator(batches(log));
  assert.deepEqual(await items.next(), { value: 1, done: false });
  await assert.rejects(items.throw(new Error("stop")), /stop/);
  assert.deepEqual(log, ["source closed", "source closed"]);
  assert.deepEqual(await items.next(), { value: undefined, done: true });
  assert.deepEqual(await items.return(7), { value: 7, done: true });
});

test("a batch iterator passes its source's failure on, then is done", async () => {
  const log: string[] = [];
  const items = new BatchIterator(batches(log, true));
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const item of items) seen.push(item);
  }, /source failed/);
  assert.deepEqual(seen, [1, 2, 3]);
  assert.deepEqual(await items.next(), { value: undefined, done: true });
});
