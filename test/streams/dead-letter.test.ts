/**
 * The dead-letter rule: an entry whose deliveries reached maxDeliveries leaves the PEL instead
 * of being delivered again when the caller's callback accepts it, and is reported as it was.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConsumerGroup, formatId, MIN_ID, type PendingEntry, type StreamId } from "../../src/streams/index.js";
import { FakeStream, id } from "./fake-stream.js";

function setUp(maxDeliveries: number): { stream: FakeStream; group: ConsumerGroup } {
  const stream = new FakeStream();
  stream.add("1-0", "2-0");
  const group = new ConsumerGroup({ name: "g", maxDeliveries, deadLetterKey: "dlq" });
  group.deliverNew("a", stream.after(MIN_ID), 100, false, stream.facts());
  return { stream, group };
}

const ids = (list: readonly StreamId[]): string[] => list.map(formatId);

test("a claim past maxDeliveries dead-letters the entry with its history when the callback accepts", () => {
  const { stream, group } = setUp(2);
  const offered: PendingEntry[] = [];
  const accept = (entry: PendingEntry) => {
    offered.push(entry);
    return true;
  };
  const first = group.claim("b", 0, [id("1-0")], {}, 200, stream.exists, accept);
  assert.deepEqual([ids(first.claimed), first.deadLettered], [["1-0"], []], "1 delivery < 2: delivered");
  const second = group.claim("c", 0, [id("1-0")], {}, 300, stream.exists, accept);
  assert.deepEqual(second.claimed, []);
  assert.deepEqual(second.deadLettered, [{ id: id("1-0"), consumer: "b", deliveredMs: 200, deliveries: 2 }]);
  assert.deepEqual(offered, second.deadLettered);
  assert.equal(group.consumer("b")?.pending, 0);
  assert.deepEqual(ids(group.pendingEntries().map((e) => e.id)), ["2-0"]);
});

test("when the callback declines, the entry is delivered as usual", () => {
  const { stream, group } = setUp(1);
  const result = group.claim("b", 0, [id("1-0")], {}, 200, stream.exists, () => false);
  assert.deepEqual([ids(result.claimed), result.deadLettered], [["1-0"], []]);
  assert.equal(group.pendingEntries()[0]?.deliveries, 2);
});

test("without maxDeliveries or without a callback nothing is dead-lettered", () => {
  const stream = new FakeStream();
  stream.add("1-0");
  const group = new ConsumerGroup({ name: "g" });
  group.deliverNew("a", stream.after(MIN_ID), 0, false, stream.facts());
  for (let i = 0; i < 5; i++) assert.equal(group.claim("b", 0, [id("1-0")], {}, i, stream.exists, () => true).claimed.length, 1);
  const { stream: other, group: limited } = setUp(1);
  assert.equal(limited.claim("b", 0, [id("1-0")], {}, 5, other.exists).claimed.length, 1);
});

test("JUSTID and FORCE-created entries are never dead-lettered", () => {
  const { stream, group } = setUp(1);
  const justId = group.claim("b", 0, [id("1-0")], { justId: true }, 200, stream.exists, () => true);
  assert.deepEqual([ids(justId.claimed), justId.deadLettered], [["1-0"], []]);
  group.ack([id("2-0")]);
  const forced = group.claim("b", 0, [id("2-0")], { force: true }, 200, stream.exists, () => true);
  assert.deepEqual([ids(forced.claimed), forced.deadLettered], [["2-0"], []]);
});

test("an autoclaim dead-letters as it scans, and each dead letter counts against its count", () => {
  const { stream, group } = setUp(1);
  const result = group.autoClaim("b", 0, MIN_ID, 1, 200, stream.exists, false, () => true);
  assert.deepEqual([formatId(result.nextId), result.claimed, ids(result.deadLettered.map((e) => e.id))], ["2-0", [], ["1-0"]]);
  const justId = group.autoClaim("b", 0, MIN_ID, 5, 200, stream.exists, true, () => true);
  assert.deepEqual([ids(justId.claimed), justId.deadLettered], [["2-0"], []]);
});

test("a history read dead-letters present entries only; deleted ones are still reported with no data", () => {
  const { stream, group } = setUp(1);
  stream.del("2-0");
  const result = group.deliverHistory("a", MIN_ID, 0, 200, stream.exists, () => true);
  assert.deepEqual(result.entries, [{ id: id("2-0"), exists: false }]);
  assert.deepEqual(result.deadLettered, [{ id: id("1-0"), consumer: "a", deliveredMs: 100, deliveries: 1 }]);
  assert.deepEqual(ids(group.pendingEntries().map((e) => e.id)), ["2-0"]);
});
