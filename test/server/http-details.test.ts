/**
 * The details of HTTP the API promises: how numbers are spelled in a query, how entity tags
 * and Idempotency-Key are read, what a body's Content-Encoding does, that every error body
 * has the documented shape, and how keys that clients rewrite (".", "..") are reached.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestServer, type TestServer } from "../support/server.js";

describe("HTTP details", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ keyBytesMax: 64, listLimitMax: 50 });
    for (let i = 0; i < 3; i++) await s.call("PUT", `/v1/kv/n${i}`, { json: i });
  });
  after(() => s.stop());

  test("a list limit is decimal digits only: 0x10, 1e3, 5.0, ' 5' and +5 are 400, not read as numbers", async () => {
    for (const limit of ["0x10", "1e3", "5.0", "%205", "%2B5", "05", "99999999999999999999"]) {
      const reply = await s.call("GET", `/v1/kv?limit=${limit}`);
      assert.equal(reply.status, 400, `limit=${limit}: ${reply.text}`);
      assert.equal(reply.json.error.code, "LOGBOOK_BAD_REQUEST");
    }
    assert.equal((await s.call("GET", "/v1/kv?limit=2")).json.items.length, 2);
  });

  test("a limit over listLimitMax is answered with a page of at most listLimitMax and a cursor", async () => {
    for (let i = 0; i < 60; i++) await s.call("PUT", `/v1/kv/many%2F${String(i).padStart(2, "0")}`, { json: i });
    const reply = await s.call("GET", "/v1/kv?prefix=many/&limit=1000");
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.items.length, 50);
    assert.equal(typeof reply.json.cursor, "string");
  });
});
