import assert from "node:assert/strict";
import { test } from "node:test";
import { RespError } from "../../src/server/resp/reply.js";
import { parseCursor, SCAN_CURSOR_BYTES_MAX, SCAN_CURSORS_MAX, ScanCursors } from "../../src/server/resp/scan-cursor.js";

const TENANT = "k/t/";

test("a cursor issued for a resume key gives that key back, within its tenant only", () => {
  const cursors = new ScanCursors();
  const cursor = cursors.issue(`${TENANT}user:1234`, TENANT);
  assert.notEqual(cursor, 0n);
  assert.equal(cursors.resumeKey(cursor, TENANT), `${TENANT}user:1234`);
  // Another tenant holding the number resumes at the bytes it keeps, in its own range.
  assert.equal(cursors.resumeKey(cursor, "k/u/"), "k/u/user");
  assert.equal(cursors.resumeKey(0n, TENANT), TENANT);
});

test("cursors order as their keys' first bytes do, and two scans at one key get two cursors", () => {
  const cursors = new ScanCursors();
  const a = cursors.issue(`${TENANT}aaaa`, TENANT);
  const b = cursors.issue(`${TENANT}aaab`, TENANT);
  const c = cursors.issue(`${TENANT}b`, TENANT);
  assert.ok(a >> 32n < b >> 32n && b >> 32n < c >> 32n);
  const again = cursors.issue(`${TENANT}aaaa`, TENANT);
  assert.notEqual(again, a);
  assert.equal(cursors.resumeKey(again, TENANT), `${TENANT}aaaa`);
  assert.ok(cursors.issue(`${TENANT}\xff\xff\xff\xff\xff`, TENANT) < 1n << 64n);
});

test("a forgotten cursor resumes at or before its key: at the key's first 4 bytes, trailing zeros dropped", () => {
  const cursors = new ScanCursors();
  const keys = [`${TENANT}session:abc`, `${TENANT}ab`, `${TENANT}a\x00\x00\x00b`, `${TENANT}\x00\x00\x00\x00z`, TENANT];
  const issued = keys.map((key) => cursors.issue(key, TENANT));
  const forgetting = new ScanCursors();
  const resumed = issued.map((cursor) => forgetting.resumeKey(cursor, TENANT));
  assert.deepEqual(resumed, [`${TENANT}sess`, `${TENANT}ab`, `${TENANT}a`, TENANT, TENANT]);
  resumed.forEach((resume, i) => assert.ok(resume <= (keys[i] as string)));
});

test("the table keeps at most SCAN_CURSORS_MAX cursors and SCAN_CURSOR_BYTES_MAX bytes, forgetting the oldest", () => {
  const cursors = new ScanCursors();
  const first = cursors.issue(`${TENANT}first`, TENANT);
  for (let i = 0; i < SCAN_CURSORS_MAX; i++) cursors.issue(`${TENANT}k${i}`, TENANT);
  assert.equal(cursors.size, SCAN_CURSORS_MAX);
  assert.equal(cursors.resumeKey(first, TENANT), `${TENANT}firs`);
  const long = `${TENANT}${"x".repeat(SCAN_CURSOR_BYTES_MAX / 4)}`;
  for (let i = 0; i < 5; i++) cursors.issue(long, TENANT);
  assert.ok(cursors.size <= 4);
});

test("cursor text is read as C's strtoul reads it, or refused with Redis's error", () => {
  assert.equal(parseCursor("0"), 0n);
  assert.equal(parseCursor(""), 0n);
  assert.equal(parseCursor("+12"), 12n);
  assert.equal(parseCursor("007"), 7n);
  assert.equal(parseCursor("18446744073709551615"), (1n << 64n) - 1n);
  assert.equal(parseCursor("-1"), (1n << 64n) - 1n);
  assert.equal(parseCursor("-18446744073709551615"), 1n);
  assert.equal(parseCursor("12\x00junk"), 12n);
  for (const text of ["x", " 1", "\t1", "1 ", "-", "+", "0x10", "1.5", "18446744073709551616", "-18446744073709551616"]) {
    assert.throws(
      () => parseCursor(text),
      (error: unknown) => error instanceof RespError && error.message === "ERR invalid cursor",
    );
  }
});
