/**
 * A batch body is checked against its schema as sent: a value of the wrong JSON type is a
 * 400, never converted into something the client did not write (a key `1` into "1", an
 * `ifVersion` of null into 0, which would make the write create-only).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestServer, type TestServer } from "../support/server.js";

describe("batch bodies", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ keyBytesMax: 64 });
  });
  after(() => s.stop());

  const put = (fields: Record<string, unknown>) => ({ operations: [{ type: "put", key: "k", value: 1, ...fields }] });
  const refused: [string, unknown][] = [
    ["a number key", put({ key: 1 })],
    ["a boolean key", put({ key: true })],
    ["an array key", put({ key: ["arr"] })],
    ["a null key", put({ key: null })],
    ["an ifVersion of null", put({ ifVersion: null })],
    ["an ifVersion of false", put({ ifVersion: false })],
    ["an ifVersion of [0]", put({ ifVersion: [0] })],
    ['an ifVersion of "0"', put({ ifVersion: "0" })],
    ["an ifVersion of 1.5", put({ ifVersion: 1.5 })],
    ['a type of ["put"]', put({ type: ["put"] })],
    ["an unknown field in an operation", put({ extra: 1 })],
    ["a value on a delete", { operations: [{ type: "delete", key: "k", value: 1 }] }],
    ["an unknown field beside operations", { ...put({}), extra: 1 }],
    ["operations as an object", { operations: { type: "put", key: "k", value: 1 } }],
    ["a put without a value", { operations: [{ type: "put", key: "k" }] }],
  ];
  for (const [name, body] of refused) {
    test(`a batch with ${name} is refused with 400 LOGBOOK_BAD_REQUEST and applies nothing`, async () => {
      const reply = await s.call("POST", "/v1/kv:batch", { json: body });
      assert.equal(reply.status, 400, reply.text);
      assert.equal(reply.json.error.code, "LOGBOOK_BAD_REQUEST");
      assert.deepEqual(Object.keys(reply.json.error).sort(), ["code", "message"]);
      for (const key of ["k", "1", "true", "arr"]) assert.equal((await s.call("GET", `/v1/kv/${key}`)).status, 404, key);
    });
  }

  test("a well-formed batch with ifVersion 0 still creates, and null in a value is kept as null", async () => {
    const reply = await s.call("POST", "/v1/kv:batch", {
      json: { operations: [{ type: "put", key: "made", value: null, ifVersion: 0 }] },
    });
    assert.equal(reply.status, 200, reply.text);
    assert.equal((await s.call("GET", "/v1/kv/made")).text, "null");
  });
});
