import assert from "node:assert/strict";
import { test } from "node:test";
import { idFromParts, MAX_ID, MIN_ID, type StreamId } from "../../src/streams/index.js";
import { BLOCK_ENTRIES_MAX } from "../../src/streams/index-block.js";
import { StreamIndex } from "../../src/streams/stream-index.js";
import { seededRandom } from "../../src/testing/index.js";

const id = (ms: number | bigint, seq: number | bigint = 0) => idFromParts(BigInt(ms), BigInt(seq));

/** An index and a plain model of it: the live entries as [id, position, bytes], ascending. */
function filled(ids: StreamId[], bodyBytes = 10): { index: StreamIndex; model: [StreamId, number, number][] } {
  const index = new StreamIndex();
  const model: [StreamId, number, number][] = [];
  for (const [i, entry] of ids.entries()) {
    index.append(entry, i * 100, bodyBytes);
    model.push([entry, i * 100, bodyBytes]);
  }
  return { index, model };
}

function sameAsModel(index: StreamIndex, model: [StreamId, number, number][]): void {
  assert.equal(index.length, model.length);
  assert.equal(
    index.bodyBytes,
    model.reduce((sum, [, , bytes]) => sum + bytes, 0),
  );
  assert.deepEqual(
    index.ids(MIN_ID, MAX_ID, Number.POSITIVE_INFINITY, false),
    model.map(([entry]) => entry),
  );
  assert.equal(index.firstId, model[0]?.[0]);
  assert.equal(index.lastId, model[model.length - 1]?.[0]);
}

test("IDs at the edges (huge ms, seq past 2^32, ms jumps past 2^32, MAX_ID) are found, listed and located", () => {
  const ids = [
    id(0, 1),
    id(1, 0),
    id(1, 2n ** 32n),
    id(1, 2n ** 64n - 2n),
    id(2n ** 33n),
    id(2n ** 40n, 7),
    id(2n ** 63n),
    id(2n ** 64n - 1n, 5),
    MAX_ID,
  ];
  const { index } = filled(ids);
  for (const [i, entry] of ids.entries()) {
    assert.equal(index.has(entry), true);
    assert.deepEqual(index.locate(entry), { position: i * 100, bodyBytes: 10 });
  }
  assert.equal(index.has(id(1, 1)), false);
  assert.deepEqual(index.ids(MIN_ID, MAX_ID, 100, false), ids);
  assert.deepEqual(index.ids(MIN_ID, MAX_ID, 100, true), [...ids].reverse());
  assert.deepEqual(index.ids(id(1), id(2n ** 40n, 7), 100, false), ids.slice(1, 6));
  assert.deepEqual(index.ids(id(1, 1), id(2n ** 40n, 6), 100, true), ids.slice(2, 5).reverse());
  assert.equal(index.lastId, MAX_ID);
  assert.ok(index.bytes <= 16 * ids.length + 2048);
});

test("search, ranges and deletes agree with a model across many blocks", () => {
  const random = seededRandom(7);
  const ids: StreamId[] = [];
  let ms = 1_700_000_000_000;
  for (let i = 0; i < 3 * BLOCK_ENTRIES_MAX + 17; i++) {
    ms += Math.floor(random() * 3);
    ids.push(id(ms, i));
  }
  const { index, model } = filled(ids);
  sameAsModel(index, model);
  for (let round = 0; round < 500; round++) {
    const victim = model[Math.floor(random() * model.length)] as [StreamId, number, number];
    assert.equal(index.delete(victim[0]), true);
    assert.equal(index.delete(victim[0]), false);
    model.splice(model.indexOf(victim), 1);
  }
  sameAsModel(index, model);
  for (let round = 0; round < 200; round++) {
    const a = ids[Math.floor(random() * ids.length)] as StreamId;
    const b = ids[Math.floor(random() * ids.length)] as StreamId;
    const [from, to] = a < b ? [a, b] : [b, a];
    const count = 1 + Math.floor(random() * 50);
    const inRange = model.filter(([entry]) => entry >= from && entry <= to).map(([entry]) => entry);
    assert.deepEqual(index.ids(from, to, count, false), inRange.slice(0, count));
    assert.deepEqual(index.ids(from, to, count, true), inRange.reverse().slice(0, count));
  }
});

test("exact trims remove exactly the oldest entries; approximate ones whole blocks only, within the limit", () => {
  const ids = Array.from({ length: 3 * BLOCK_ENTRIES_MAX }, (_, i) => id(1000 + i));
  {
    const { index, model } = filled(ids);
    assert.equal(index.trimToLength(5000, false, 0), ids.length - 5000);
    sameAsModel(index, model.slice(ids.length - 5000));
  }
  {
    const { index, model } = filled(ids);
    // Removing the first block leaves 8192 >= 5000; removing the second would leave 4096 < 5000.
    assert.equal(index.trimToLength(5000, true, 0), BLOCK_ENTRIES_MAX);
    sameAsModel(index, model.slice(BLOCK_ENTRIES_MAX));
  }
  {
    const { index } = filled(ids);
    assert.equal(index.trimToLength(0, true, BLOCK_ENTRIES_MAX + 1), BLOCK_ENTRIES_MAX, "the limit stops before a second block");
    assert.equal(index.trimToLength(0, false, 10), 10, "an exact trim honours its limit too");
  }
  {
    const { index, model } = filled(ids);
    assert.equal(index.trimBefore(id(1000 + 5000), false, 0), 5000);
    sameAsModel(index, model.slice(5000));
    assert.equal(index.trimBefore(id(1000 + 9000), true, 0), BLOCK_ENTRIES_MAX * 2 - 5000);
    assert.equal(index.firstId, id(1000 + 2 * BLOCK_ENTRIES_MAX));
  }
  {
    const { index, model } = filled(ids, 10);
    assert.equal(index.trimToBytes(10 * 100 + 5), ids.length - 100);
    sameAsModel(index, model.slice(ids.length - 100));
    assert.equal(index.trimToBytes(0), 100);
    sameAsModel(index, []);
  }
});

test("deleted entries do not count toward a trim, and leading deleted ones are dropped with it", () => {
  const ids = Array.from({ length: 100 }, (_, i) => id(1, i));
  const { index, model } = filled(ids);
  for (let i = 0; i < 10; i++) index.delete(ids[i * 2] as StreamId);
  const live = model.filter((_, i) => i >= 20 || i % 2 === 1);
  sameAsModel(index, live);
  assert.equal(index.trimToLength(80, false, 0), 10);
  sameAsModel(index, live.slice(10));
  assert.equal(index.firstId, ids[20]);
  const state = index.state();
  assert.equal(state.skipped, 20);
  assert.deepEqual(state.deleted, []);
});

test("an index rebuilt from its state (skipped slots, deleted IDs) trims approximately as the original does", () => {
  const ids = Array.from({ length: 2 * BLOCK_ENTRIES_MAX + 50 }, (_, i) => id(5, i));
  const { index } = filled(ids);
  index.trimToLength(ids.length - 100, false, 0);
  index.delete(ids[200] as StreamId);
  const state = index.state();
  const rebuilt = new StreamIndex(state.skipped);
  for (const [i, entry] of ids.entries()) {
    if (i * 100 < (state.firstPosition as number)) continue;
    rebuilt.append(entry, i * 100, 10);
    if (state.deleted.includes(entry)) rebuilt.delete(entry);
  }
  assert.deepEqual(rebuilt.state(), state);
  for (const target of [index, rebuilt]) target.trimToLength(BLOCK_ENTRIES_MAX, true, 0);
  assert.equal(rebuilt.firstId, index.firstId);
  assert.equal(rebuilt.length, index.length);
});

test("the index takes at most 16 bytes per entry (1 M entries, 100-byte bodies)", () => {
  const index = new StreamIndex();
  const entries = 1_000_000;
  let ms = 1_700_000_000_000;
  let position = 0;
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < entries; i++) {
    if (i % 3 === 0) ms++;
    index.append(idFromParts(BigInt(ms), BigInt(i % 3)), position, 100);
    position += 132;
  }
  const measured = process.memoryUsage().arrayBuffers - before;
  assert.ok(index.bytes <= 16 * entries, `indexBytes ${index.bytes} for ${entries} entries`);
  assert.ok(measured <= 16 * entries, `array buffers grew by ${measured} bytes for ${entries} entries`);
  assert.equal(index.length, entries);
});
