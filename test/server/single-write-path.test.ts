/**
 * Which store call an HTTP write makes: a PUT or DELETE of one key without an Idempotency-Key
 * (conditional or not) takes the store's single-write path; a write that carries its
 * idempotency record, or several operations, is one atomic batch.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Store } from "../../src/store/store.js";
import { startTestServer, type TestServer } from "../support/server.js";

type Call = "put" | "delete" | "batch";

/** Counts the store's write calls, which otherwise run as they would. */
function spyOnWrites(store: Store): Call[] {
  const calls: Call[] = [];
  for (const name of ["put", "delete", "batch"] as const) {
    const original = store[name].bind(store) as (...args: unknown[]) => Promise<number>;
    (store as unknown as Record<Call, unknown>)[name] = (...args: unknown[]) => {
      calls.push(name);
      return original(...args);
    };
  }
  return calls;
}

describe("the store call behind an HTTP write", () => {
  let s: TestServer;
  let calls: Call[];
  before(async () => {
    s = await startTestServer({ checkpointOnExit: false });
    calls = spyOnWrites(s.server.store);
  });
  after(() => s.stop());

  async function callsOf(send: () => Promise<{ status: number }>, status: number): Promise<Call[]> {
    calls.length = 0;
    assert.equal((await send()).status, status);
    return [...calls];
  }

  test("a single PUT or DELETE takes the single-write path, with its condition", async () => {
    assert.deepEqual(await callsOf(() => s.call("PUT", "/v1/kv/a", { json: 1 }), 200), ["put"]);
    const v1 = (await s.call("GET", "/v1/kv/a")).headers.get("etag") as string;
    assert.deepEqual(await callsOf(() => s.call("PUT", "/v1/kv/a", { json: 2, headers: { "if-match": v1 } }), 200), ["put"]);
    assert.deepEqual(await callsOf(() => s.call("PUT", "/v1/kv/a", { json: 3, headers: { "if-match": v1 } }), 412), ["put"]);
    assert.deepEqual(await callsOf(() => s.call("PUT", "/v1/kv/a", { json: 3, headers: { "if-none-match": "*" } }), 412), [
      "put",
    ]);
    assert.deepEqual(await callsOf(() => s.call("DELETE", "/v1/kv/a"), 200), ["delete"]);
    assert.deepEqual(await callsOf(() => s.call("DELETE", "/v1/kv/a"), 404), [], "no key: refused before the store");
    assert.equal((await s.call("GET", "/v1/kv/a")).status, 404);
  });

  test("a write with its idempotency record, or of several operations, is one batch", async () => {
    const idempotent = { json: 1, headers: { "idempotency-key": "single-path-1" } };
    assert.deepEqual(await callsOf(() => s.call("PUT", "/v1/kv/b", idempotent), 200), ["batch"]);
    assert.deepEqual(await callsOf(() => s.call("PUT", "/v1/kv/b", idempotent), 200), [], "a replay writes nothing");
    const two = {
      json: {
        operations: [
          { type: "put", key: "c", value: 1 },
          { type: "delete", key: "b" },
        ],
      },
    };
    assert.deepEqual(await callsOf(() => s.call("POST", "/v1/kv:batch", two), 200), ["batch"]);
  });
});
