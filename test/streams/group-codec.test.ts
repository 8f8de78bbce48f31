/**
 * Consumer groups in a checkpoint: every field round-trips exactly, and damaged bytes (a
 * flipped bit, a cut tail, a wrong version under a valid checksum) fail with LOGBOOK_CORRUPTION.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { isLogbookError } from "../../src/errors.js";
import { crc32 } from "../../src/log/index.js";
import { ConsumerGroup, decodeGroups, encodeGroups, MIN_ID } from "../../src/streams/index.js";
import { FakeStream, groupState, id } from "./fake-stream.js";

function sampleGroups(): ConsumerGroup[] {
  const stream = new FakeStream();
  stream.add("1-0", "2-0", "3-0", "1700000000000-5", "18446744073709551615-18446744073709551615");
  const full = new ConsumerGroup({ name: "orders ✓", entriesRead: 0, maxDeliveries: 3, deadLetterKey: "dlq:\u{1F600}" });
  full.deliverNew("alice", stream.after(MIN_ID, 3), 2 ** 40 + 7, false, stream.facts());
  full.deliverNew("bob", stream.after(full.lastDeliveredId), 9_007_199_254_740_991, false, stream.facts());
  full.claim("carol", 0, [id("2-0")], { retryCount: 4_000_000_000 }, 5, stream.exists);
  full.createConsumer("", 0);
  full.createConsumer("idle", 12);
  const bare = new ConsumerGroup({ name: "" });
  const noAck = new ConsumerGroup({ name: "n", lastDeliveredId: id("2-0"), entriesRead: 2 });
  noAck.deliverNew("x", [id("3-0")], 1, true, stream.facts());
  return [full, bare, noAck];
}

const corruption = (error: unknown) => isLogbookError(error, "LOGBOOK_CORRUPTION");

test("groups round-trip exactly, and encoding the decoded groups gives the same bytes", () => {
  const groups = sampleGroups();
  const bytes = encodeGroups(groups);
  const decoded = decodeGroups(bytes);
  assert.deepEqual(decoded.map(groupState), groups.map(groupState));
  assert.deepEqual(encodeGroups(decoded), bytes);
  assert.deepEqual(decodeGroups(encodeGroups([])), []);
});

test("a decoded group goes on working: its PEL and consumers are linked as before", () => {
  const [group] = decodeGroups(encodeGroups(sampleGroups()));
  assert.ok(group);
  assert.equal(group.deleteConsumer("alice"), 2);
  assert.equal(group.ack([id("2-0")]), 1);
  assert.equal(group.pendingSummary().count, 2);
});

test("every flipped byte and every cut fails with LOGBOOK_CORRUPTION", () => {
  const bytes = encodeGroups(sampleGroups());
  for (let at = 0; at < bytes.length; at++) {
    const damaged = bytes.slice();
    damaged[at] = (damaged[at] as number) ^ 0x10;
    assert.throws(() => decodeGroups(damaged), corruption, `flip at ${at}`);
  }
  for (const length of [0, 3, 15, bytes.length - 1]) assert.throws(() => decodeGroups(bytes.subarray(0, length)), corruption);
});

test("an unknown version or trailing bytes fail even under a matching checksum", () => {
  const reseal = (body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(body.length + 4);
    out.set(body);
    new DataView(out.buffer).setUint32(body.length, crc32(body), true);
    return out;
  };
  const bytes = encodeGroups(sampleGroups());
  const body = bytes.slice(0, bytes.length - 4);
  body[4] = 2;
  assert.throws(() => decodeGroups(reseal(body)), corruption);
  const longer = new Uint8Array(bytes.length - 4 + 1);
  longer.set(bytes.subarray(0, bytes.length - 4));
  assert.throws(() => decodeGroups(reseal(longer)), corruption);
  assert.throws(() => decodeGroups("bytes" as unknown as Uint8Array), TypeError);
});
