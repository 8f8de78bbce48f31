import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isLogbookError } from "../../src/errors.js";
import {
  assignId,
  formatId,
  idFromParts,
  idMs,
  idSeq,
  MAX_ID,
  MIN_ID,
  nextId,
  parseId,
  parseIdRequest,
  previousId,
} from "../../src/streams/stream-id.js";

const u64 = fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: 2n ** 53n + 5n }));

test("an ID prints, parses and compares as its two u64 parts, across the safe-integer edge", () => {
  fc.assert(
    fc.property(u64, u64, u64, u64, (ms, seq, ms2, seq2) => {
      const id = idFromParts(ms, seq);
      assert.equal(idMs(id), ms);
      assert.equal(idSeq(id), seq);
      assert.equal(formatId(id), `${ms}-${seq}`);
      assert.equal(parseId(formatId(id)), id);
      const other = idFromParts(ms2, seq2);
      assert.equal(id < other, ms < ms2 || (ms === ms2 && seq < seq2));
    }),
    { numRuns: 500 },
  );
});

test("next and previous step over seq into ms, and stop at the ends", () => {
  assert.equal(formatId(nextId(parseId("5-18446744073709551615")) as string), "6-0");
  assert.equal(formatId(previousId(parseId("6-0")) as string), "5-18446744073709551615");
  assert.equal(nextId(MAX_ID), undefined);
  assert.equal(previousId(MIN_ID), undefined);
});

test("generated IDs take the clock and never go back when it does", () => {
  const first = assignId({ kind: "auto" }, MIN_ID, 1_700_000_000_123) as string;
  assert.equal(formatId(first), "1700000000123-0");
  assert.equal(formatId(assignId({ kind: "auto" }, first, 1_600_000_000_000) as string), "1700000000123-1");
  assert.equal(formatId(assignId({ kind: "ms", ms: 1_700_000_000_123n }, first, 0) as string), "1700000000123-1");
  assert.equal(assignId({ kind: "ms", ms: 5n }, first, 0), undefined);
  assert.equal(assignId({ kind: "explicit", id: first }, first, 0), undefined);
  assert.equal(assignId({ kind: "auto" }, MAX_ID, 5), undefined);
});

test("malformed IDs are LOGBOOK_INVALID_ARGUMENT; a wrong type is a TypeError", () => {
  for (const bad of [
    "",
    "-",
    "1-",
    "-1",
    "a-1",
    "1-b",
    "1-2-3",
    " 1-2",
    "18446744073709551616-0",
    "0-18446744073709551616",
    "1.5-0",
  ]) {
    assert.throws(
      () => parseId(bad),
      (e: unknown) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"),
      bad,
    );
  }
  assert.throws(
    () => parseIdRequest("x-*"),
    (e: unknown) => isLogbookError(e, "LOGBOOK_INVALID_ARGUMENT"),
  );
  assert.throws(() => parseId(5 as unknown as string), TypeError);
  assert.equal(formatId(parseId("7", "max")), "7-18446744073709551615");
});
