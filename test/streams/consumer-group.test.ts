/**
 * A consumer group behaves as Redis 7.2's does: each case follows a test of Redis's
 * tests/unit/type/stream-cgroups.tcl or a rule of t_stream.c, with the stream played by
 * FakeStream and every time given explicitly.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import { ConsumerGroup, formatId, MIN_ID, type StreamId } from "../../src/streams/index.js";
import { FakeStream, id } from "./fake-stream.js";

const ids = (list: readonly StreamId[]): string[] => list.map(formatId);

function read(group: ConsumerGroup, stream: FakeStream, consumer: string, count: number, nowMs: number, noAck = false): string[] {
  const delivered = stream.after(group.lastDeliveredId, count);
  group.deliverNew(consumer, delivered, nowMs, noAck, stream.facts());
  return ids(delivered);
}

function info(group: ConsumerGroup, stream: FakeStream): { entriesRead: number | null; lag: number | null } {
  const { entriesRead, lag } = group.info(stream.facts());
  return { entriesRead, lag };
}

test("a > read makes each entry pending once for its reader and advances the last delivered ID", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0");
  const group = new ConsumerGroup({ name: "g" });
  assert.deepEqual(read(group, stream, "alice", 2, 1000), ["1-0", "2-0"]);
  assert.equal(formatId(group.lastDeliveredId), "2-0");
  assert.deepEqual(group.pendingEntries(), [
    { id: id("1-0"), consumer: "alice", deliveredMs: 1000, deliveries: 1 },
    { id: id("2-0"), consumer: "alice", deliveredMs: 1000, deliveries: 1 },
  ]);
  assert.deepEqual(group.consumer("alice"), { name: "alice", pending: 2, seenMs: 1000, activeMs: 1000 });
});

test("NOACK advances the group but leaves no pending entry and no active time", () => {
  const stream = new FakeStream();
  stream.add("1-0");
  const group = new ConsumerGroup({ name: "g" });
  read(group, stream, "bob", 0, 50, true);
  assert.equal(formatId(group.lastDeliveredId), "1-0");
  assert.equal(group.pendingSummary().count, 0);
  assert.deepEqual(group.consumer("bob"), { name: "bob", pending: 0, seenMs: 50, activeMs: undefined });
});

test("PEL NACK reassignment after XGROUP SETID: re-read entries move to the new reader", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0", "4-0");
  const group = new ConsumerGroup({ name: "g1", lastDeliveredId: id("4-0") });
  stream.add("5-0");
  assert.equal(read(group, stream, "c1", 0, 10).length, 1);
  group.setId(MIN_ID);
  assert.equal(group.entriesRead, undefined);
  assert.equal(read(group, stream, "c2", 0, 20).length, 5);
  assert.deepEqual(group.pendingSummary().consumers, [{ name: "c2", pending: 5 }]);
  assert.deepEqual(group.consumer("c1")?.pending, 0);
  const five = group.pendingEntries().at(-1);
  assert.deepEqual(five, { id: id("5-0"), consumer: "c2", deliveredMs: 20, deliveries: 1 });
});

test("a history read counts and stamps a delivery of each own pending entry, and reports deleted ones (bug #5570)", () => {
  const stream = new FakeStream();
  const group = new ConsumerGroup({ name: "mygroup" });
  assert.deepEqual(group.deliverHistory("c", MIN_ID, 3, 5, stream.exists).entries, []);
  stream.add("1-0");
  read(group, stream, "c", 0, 10);
  stream.add("2-0");
  stream.trimMinId("2-0");
  read(group, stream, "c", 0, 20);
  const history = group.deliverHistory("c", id("0-1"), 0, 30, stream.exists);
  assert.deepEqual(history.entries, [
    { id: id("1-0"), exists: false },
    { id: id("2-0"), exists: true },
  ]);
  assert.deepEqual(group.pendingEntries(), [
    { id: id("1-0"), consumer: "c", deliveredMs: 10, deliveries: 1 },
    { id: id("2-0"), consumer: "c", deliveredMs: 30, deliveries: 2 },
  ]);
  assert.deepEqual(ids(group.deliverHistory("c", MIN_ID, 1, 40, stream.exists).entries.map((e) => e.id)), ["1-0"]);
  assert.equal(group.deliverHistory("other", MIN_ID, 0, 40, stream.exists).entries.length, 0);
  assert.equal(group.consumer("c")?.activeMs, 20, "a history read sees the consumer but is not activity");
  assert.equal(group.consumer("c")?.seenMs, 40);
});

test("XPENDING: the summary's shape, the range with IDLE, a consumer filter and exclusive bounds given as inclusive IDs", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0", "4-0");
  const group = new ConsumerGroup({ name: "g" });
  assert.deepEqual(group.pendingSummary(), { count: 0, smallest: undefined, largest: undefined, consumers: [] });
  read(group, stream, "consumer-2", 2, 100);
  read(group, stream, "consumer-1", 2, 300);
  group.createConsumer("idle-one", 300);
  assert.deepEqual(group.pendingSummary(), {
    count: 4,
    smallest: id("1-0"),
    largest: id("4-0"),
    consumers: [
      { name: "consumer-1", pending: 2 },
      { name: "consumer-2", pending: 2 },
    ],
  });
  const all = group.pendingRange({ start: MIN_ID, end: id("99-0"), count: 10 }, 400);
  assert.deepEqual(
    all.map((e) => [formatId(e.id), e.consumer, e.idleMs, e.deliveries]),
    [
      ["1-0", "consumer-2", 300, 1],
      ["2-0", "consumer-2", 300, 1],
      ["3-0", "consumer-1", 100, 1],
      ["4-0", "consumer-1", 100, 1],
    ],
  );
  assert.deepEqual(ids(group.pendingRange({ start: MIN_ID, end: id("99-0"), count: 10, minIdleMs: 200 }, 400).map((e) => e.id)), [
    "1-0",
    "2-0",
  ]);
  assert.deepEqual(ids(group.pendingRange({ start: id("2-0"), end: id("3-0"), count: 10 }, 400).map((e) => e.id)), [
    "2-0",
    "3-0",
  ]);
  assert.deepEqual(
    ids(group.pendingRange({ start: MIN_ID, end: id("99-0"), count: 1, consumer: "consumer-1" }, 400).map((e) => e.id)),
    ["3-0"],
  );
  assert.deepEqual(group.pendingRange({ start: MIN_ID, end: id("99-0"), count: 10, consumer: "nobody" }, 400), []);
  assert.deepEqual(group.pendingRange({ start: MIN_ID, end: id("99-0"), count: -1 }, 400), []);
  assert.equal(group.pendingRange({ start: MIN_ID, end: id("99-0"), count: 10 }, 0)[0]?.idleMs, 0, "idle is never negative");
});

test("XACK removes entries from both PELs, counts each once, and ignores unknown IDs", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0");
  const group = new ConsumerGroup({ name: "g" });
  read(group, stream, "c", 0, 1);
  assert.equal(group.ack([id("1-0"), id("9-0"), id("1-0")]), 1);
  assert.equal(group.ack([id("1-0")]), 0);
  assert.equal(group.ack([id("2-0"), id("3-0")]), 2);
  assert.equal(group.consumer("c")?.pending, 0);
  assert.equal(group.pendingSummary().count, 0);
});

test("XCLAIM with XDEL: deleted entries leave the PEL and are reported, the rest move to the claimer", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0");
  const group = new ConsumerGroup({ name: "grp" });
  read(group, stream, "Alice", 0, 10);
  stream.del("2-0");
  const result = group.claim("Bob", 0, [id("1-0"), id("2-0"), id("3-0")], {}, 20, stream.exists);
  assert.deepEqual(ids(result.claimed), ["1-0", "3-0"]);
  assert.deepEqual(ids(result.deleted), ["2-0"]);
  assert.deepEqual(group.pendingRange({ start: MIN_ID, end: id("9-0"), count: 10, consumer: "Alice" }, 20), []);
  assert.deepEqual(
    group.pendingEntries().map((e) => [formatId(e.id), e.consumer, e.deliveredMs, e.deliveries]),
    [
      ["1-0", "Bob", 20, 2],
      ["3-0", "Bob", 20, 2],
    ],
  );
});

test("XCLAIM: min-idle, JUSTID, RETRYCOUNT, IDLE, TIME, FORCE and LASTID as Redis applies them", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0", "4-0");
  const group = new ConsumerGroup({ name: "g" });
  read(group, stream, "a", 2, 1000);
  assert.deepEqual(group.claim("b", 500, [id("1-0")], {}, 1200, stream.exists).claimed, [], "not idle long enough");
  assert.equal(group.consumer("b")?.seenMs, 1200, "the claimer exists and was seen even when it claims nothing");
  assert.equal(group.consumer("b")?.activeMs, undefined);
  group.claim("b", 100, [id("1-0")], { justId: true }, 1200, stream.exists);
  assert.deepEqual(group.pendingEntries()[0], { id: id("1-0"), consumer: "b", deliveredMs: 1200, deliveries: 1 });
  group.claim("b", 0, [id("1-0")], { retryCount: 7, idleMs: 50 }, 1300, stream.exists);
  assert.deepEqual(group.pendingEntries()[0], { id: id("1-0"), consumer: "b", deliveredMs: 1250, deliveries: 7 });
  group.claim("b", 0, [id("1-0")], { timeMs: 5000 }, 1400, stream.exists);
  assert.equal(group.pendingEntries()[0]?.deliveredMs, 1400, "a time in the future is now");
  assert.deepEqual(group.claim("b", 0, [id("3-0")], {}, 1500, stream.exists).claimed, [], "not pending, no FORCE");
  const forced = group.claim("b", 99_999, [id("3-0"), id("7-0")], { force: true, lastId: id("3-0") }, 1500, stream.exists);
  assert.deepEqual(ids(forced.claimed), ["3-0"], "FORCE ignores min-idle, and IDs not in the stream");
  assert.deepEqual(group.pendingEntries()[2], { id: id("3-0"), consumer: "b", deliveredMs: 1500, deliveries: 2 });
  assert.equal(formatId(group.lastDeliveredId), "3-0");
  group.claim("b", 0, [], { lastId: id("1-0") }, 1500, stream.exists);
  assert.equal(formatId(group.lastDeliveredId), "3-0", "LASTID never moves back");
});

test("XAUTOCLAIM with XDEL and count: the cursor and the deleted list, call after call", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0");
  const group = new ConsumerGroup({ name: "grp" });
  read(group, stream, "Alice", 0, 10);
  stream.del("1-0", "2-0");
  const step = (start: string) => {
    const r = group.autoClaim("Bob", 0, id(start), 1, 20, stream.exists, false);
    return [formatId(r.nextId), ids(r.claimed), ids(r.deleted)];
  };
  assert.deepEqual(step("0-0"), ["2-0", [], ["1-0"]]);
  assert.deepEqual(step("2-0"), ["3-0", [], ["2-0"]]);
  assert.deepEqual(step("3-0"), ["0-0", ["3-0"], []]);
  assert.deepEqual(group.pendingRange({ start: MIN_ID, end: id("9-0"), count: 10, consumer: "Alice" }, 20), []);
});

test("XAUTOCLAIM as an iterator, and its scan ends after count × 10 PEL entries", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0", "4-0", "5-0");
  const group = new ConsumerGroup({ name: "g" });
  read(group, stream, "c1", 0, 0);
  const first = group.autoClaim("c2", 10, MIN_ID, 2, 200, stream.exists, false);
  assert.deepEqual([formatId(first.nextId), ids(first.claimed)], ["3-0", ["1-0", "2-0"]]);
  const second = group.autoClaim("c2", 10, first.nextId, 2, 200, stream.exists, true);
  assert.deepEqual([formatId(second.nextId), ids(second.claimed)], ["5-0", ["3-0", "4-0"]]);
  assert.equal(group.pendingEntries()[2]?.deliveries, 1, "JUSTID does not count a delivery");
  const last = group.autoClaim("c2", 10, second.nextId, 1, 200, stream.exists, false);
  assert.deepEqual([formatId(last.nextId), ids(last.claimed)], ["0-0", ["5-0"]]);

  const many = new FakeStream();
  for (let i = 1; i <= 30; i++) many.add(`${i}-0`);
  const busy = new ConsumerGroup({ name: "g" });
  read(busy, many, "c1", 0, 1000);
  const scan = busy.autoClaim("c2", 500, MIN_ID, 2, 1000, many.exists, false);
  assert.deepEqual([formatId(scan.nextId), scan.claimed], ["21-0", []], "20 attempts, then the cursor");
});

test("XGROUP CREATECONSUMER and DELCONSUMER; XINFO CONSUMERS idle and inactive", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0");
  const group = new ConsumerGroup({ name: "g" });
  assert.equal(group.createConsumer("Bob", 100), true);
  assert.equal(group.createConsumer("Bob", 200), false);
  read(group, stream, "Alice", 0, 150);
  assert.deepEqual(group.consumersInfo(400), [
    { name: "Alice", pending: 2, idleMs: 250, inactiveMs: 250 },
    { name: "Bob", pending: 0, idleMs: 300, inactiveMs: -1 },
  ]);
  assert.deepEqual(group.consumerNames(), ["Alice", "Bob"]);
  assert.equal(group.deleteConsumer("Alice"), 2);
  assert.equal(group.deleteConsumer("Alice"), 0);
  assert.equal(group.pendingSummary().count, 0);
  assert.equal(group.info(stream.facts()).consumers, 1);
});

test("consumers are listed in UTF-8 byte order", () => {
  const group = new ConsumerGroup({ name: "g" });
  for (const name of ["b", "\u{1F600}", "\uFFFD", "a", "ab", ""]) group.createConsumer(name, 0);
  assert.deepEqual(group.consumerNames(), ["", "a", "ab", "b", "\uFFFD", "\u{1F600}"]);
});

test("consumer group read counter and lag sanity", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0", "4-0", "5-0");
  const group = new ConsumerGroup({ name: "g1" });
  assert.deepEqual(info(group, stream), { entriesRead: null, lag: 5 });
  read(group, stream, "c11", 1, 0);
  assert.deepEqual(info(group, stream), { entriesRead: 1, lag: 4 });
  read(group, stream, "c12", 10, 0);
  assert.deepEqual(info(group, stream), { entriesRead: 5, lag: 0 });
  stream.add("6-0");
  assert.deepEqual(info(group, stream), { entriesRead: 5, lag: 1 });
});

test("consumer group read counter and lag in empty streams", () => {
  const stream = new FakeStream();
  const group = new ConsumerGroup({ name: "g1" });
  assert.deepEqual(info(group, stream), { entriesRead: null, lag: 0 });
  stream.add("1-0");
  stream.del("1-0");
  assert.deepEqual(info(group, stream), { entriesRead: null, lag: 0 });
});

test("consumer group lag with XDELs", () => {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0", "4-0", "5-0");
  stream.del("3-0");
  const g1 = new ConsumerGroup({ name: "g1" });
  const g2 = new ConsumerGroup({ name: "g2" });
  assert.deepEqual(info(g1, stream), { entriesRead: null, lag: null });
  for (let i = 0; i < 3; i++) {
    read(g1, stream, "c11", 1, 0);
    assert.deepEqual(info(g1, stream), { entriesRead: null, lag: null });
  }
  read(g1, stream, "c11", 1, 0);
  assert.deepEqual(info(g1, stream), { entriesRead: 5, lag: 0 });
  stream.add("6-0");
  assert.deepEqual(info(g1, stream), { entriesRead: 5, lag: 1 });
  stream.trimMinId("3-0");
  assert.deepEqual(info(g1, stream), { entriesRead: 5, lag: 1 });
  assert.deepEqual(info(g2, stream), { entriesRead: null, lag: 3 });
  stream.trimMinId("5-0");
  assert.deepEqual(info(g1, stream), { entriesRead: 5, lag: 1 });
  assert.deepEqual(info(g2, stream), { entriesRead: null, lag: 2 });
});

test("XGROUP CREATE and SETID with ENTRIESREAD set the counter; SETID without it forgets it", () => {
  const stream = new FakeStream();
  stream.add("1-1", "1-2", "1-3", "1-4");
  const group = new ConsumerGroup({ name: "mygroup2", lastDeliveredId: stream.lastId, entriesRead: 3 });
  assert.deepEqual(info(group, stream), { entriesRead: 3, lag: 1 });
  group.setId(id("1-2"), 2);
  assert.deepEqual(info(group, stream), { entriesRead: 2, lag: 2 });
  group.setId(id("1-2"));
  assert.deepEqual(info(group, stream), { entriesRead: null, lag: null });
});

test("names, counts and IDs past their ceilings are LOGBOOK_INVALID_ARGUMENT; wrong types are TypeErrors", () => {
  const group = new ConsumerGroup({ name: "g" });
  const invalid = (error: unknown) => isLogbookError(error, "LOGBOOK_INVALID_ARGUMENT");
  assert.throws(() => new ConsumerGroup({ name: "x".repeat(4097) }), invalid);
  assert.throws(() => group.createConsumer("é".repeat(2049), 0), invalid);
  assert.throws(() => group.createConsumer("\uD800", 0), invalid);
  assert.throws(() => group.autoClaim("c", 0, MIN_ID, 0, 0, () => true, false), invalid);
  assert.throws(() => group.autoClaim("c", 0, MIN_ID, 2 ** 31, 0, () => true, false), invalid);
  assert.throws(() => new ConsumerGroup({ name: "g", maxDeliveries: 0 }), invalid);
  assert.throws(() => group.ack(["1-0"]), TypeError);
  assert.throws(() => group.createConsumer("c", -1), invalid);
  assert.throws(() => group.createConsumer("c", 1.5), TypeError);
});
