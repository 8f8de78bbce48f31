/**
 * Idempotency-Key: a keyed write applies at most once, concurrent retries included, the
 * same key with another request is refused, records survive checkpoints, and expire.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { sweepExpired } from "../../src/server/idempotency-sweeper.js";
import { startTestServer, type TestServer } from "../support/server.js";

describe("Idempotency-Key", () => {
  let s: TestServer;
  let dir: string;
  before(async () => {
    s = await startTestServer();
    dir = s.dir;
  });
  after(async () => {
    await s.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("a retry returns the recorded response and applies nothing again", async () => {
    const headers = { "idempotency-key": '"retry-1"' };
    const first = await s.call("PUT", "/v1/kv/idem-a", { json: "v1", headers });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("idempotent-replayed"), null);
    const retry = await s.call("PUT", "/v1/kv/idem-a", { json: "v1", headers });
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.json, first.json);
    assert.equal(retry.headers.get("etag"), first.headers.get("etag"));
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal((await s.call("GET", "/v1/kv/idem-a")).headers.get("etag"), first.headers.get("etag"), "not written twice");
  });

  test("the same key with a different request gets 422 and changes nothing", async () => {
    const headers = { "idempotency-key": "retry-2" };
    const first = await s.call("PUT", "/v1/kv/idem-b", { json: 1, headers });
    for (const [method, path, json, extra] of [
      ["PUT", "/v1/kv/idem-b", 2, {}],
      ["PUT", "/v1/kv/idem-other", 1, {}],
      ["PUT", "/v1/kv/idem-b", 1, { "if-match": first.headers.get("etag") as string }],
      ["DELETE", "/v1/kv/idem-b", undefined, {}],
    ] as const) {
      const reply = await s.call(method, path, { ...(json === undefined ? {} : { json }), headers: { ...headers, ...extra } });
      assert.equal(reply.status, 422, `${method} ${path}`);
      assert.equal(reply.json.error.code, "LOGBOOK_IDEMPOTENCY_MISMATCH");
    }
    assert.equal((await s.call("GET", "/v1/kv/idem-b")).json, 1);
    assert.equal((await s.call("GET", "/v1/kv/idem-other")).status, 404);
  });

  test("concurrent retries with one key apply once and all get the same answer", async () => {
    // Create-only: a second application would fail with 412, so every 200 proves at most once.
    const replies = await Promise.all(
      Array.from({ length: 32 }, () =>
        s.call("PUT", "/v1/kv/idem-c", { json: "once", headers: { "idempotency-key": "race-1", "if-none-match": "*" } }),
      ),
    );
    const versions = new Set(replies.map((r) => r.json.version));
    assert.deepEqual(
      replies.map((r) => r.status),
      replies.map(() => 200),
    );
    assert.equal(versions.size, 1);
    assert.equal(replies.filter((r) => r.headers.get("idempotent-replayed") === null).length, 1);
  });

  test("a failed request is not recorded: its retry is evaluated again", async () => {
    const headers = { "idempotency-key": "fails-first", "if-match": '"999999"' };
    assert.equal((await s.call("PUT", "/v1/kv/idem-d", { json: 1, headers })).status, 412);
    assert.equal((await s.call("PUT", "/v1/kv/idem-d", { json: 1, headers })).status, 412);
  });

  test("deletes and batches are idempotent too; a replayed delete answers 200 though the key is gone", async () => {
    await s.call("PUT", "/v1/kv/idem-e", { json: 1 });
    const first = await s.call("DELETE", "/v1/kv/idem-e", { headers: { "idempotency-key": "del-1" } });
    assert.equal(first.status, 200);
    const again = await s.call("DELETE", "/v1/kv/idem-e", { headers: { "idempotency-key": "del-1" } });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, first.json);
    // A conditional retry is not judged again against the state its first application made.
    await s.call("PUT", "/v1/kv/idem-e2", { json: 1 });
    const conditional = { "idempotency-key": "del-3", "if-match": "*" };
    const once = await s.call("DELETE", "/v1/kv/idem-e2", { headers: conditional });
    const replayed = await s.call("DELETE", "/v1/kv/idem-e2", { headers: conditional });
    assert.equal(once.status, 200);
    assert.equal(replayed.status, 200, "If-Match: * on a replayed delete of a key now gone");
    assert.deepEqual(replayed.json, once.json);
    const missing = await s.call("DELETE", "/v1/kv/idem-never", { headers: { "idempotency-key": "del-2" } });
    assert.equal(missing.status, 404, "a first delete of a missing key is still a 404");
    const batch = { operations: [{ type: "put", key: "idem-f", value: 1, ifVersion: 0 }] };
    const b1 = await s.call("POST", "/v1/kv:batch", { json: batch, headers: { "idempotency-key": "batch-1" } });
    const b2 = await s.call("POST", "/v1/kv:batch", { json: batch, headers: { "idempotency-key": "batch-1" } });
    assert.equal(b1.status, 200);
    assert.deepEqual(b2.json, b1.json);
  });

  test("recorded responses survive a checkpoint and a restart", async () => {
    const first = await s.call("PUT", "/v1/kv/idem-g", { json: "g", headers: { "idempotency-key": "restart-1" } });
    await s.server.store.checkpoint();
    await s.server.close();
    const reopened = await startTestServer({}, { dir });
    try {
      const retry = await reopened.call("PUT", "/v1/kv/idem-g", { json: "g", headers: { "idempotency-key": "restart-1" } });
      assert.equal(retry.headers.get("idempotent-replayed"), "true");
      assert.deepEqual(retry.json, first.json);
      assert.ok(reopened.server.store.recovery.checkpointLsn >= first.json.version, "it came back from the checkpoint");
    } finally {
      await reopened.server.close();
    }
    s = await startTestServer({}, { dir });
  });

  test("bad keys get 400: empty, too long, control characters, given twice", async () => {
    for (const key of ['""', "x".repeat(256), "a\tb"]) {
      const reply = await s.call("PUT", "/v1/kv/idem-h", { json: 1, headers: { "idempotency-key": key } });
      assert.equal(reply.status, 400, key);
    }
  });
});

test("records expire after the window: the key may be reused, and the sweeper forgets them", async () => {
  const s = await startTestServer({ idempotencyTtlMs: 1000 });
  try {
    const first = await s.call("PUT", "/v1/kv/exp", { json: 1, headers: { "idempotency-key": "short" } });
    assert.equal(
      (await s.call("PUT", "/v1/kv/exp", { json: 1, headers: { "idempotency-key": "short" } })).json.version,
      first.json.version,
    );
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const later = await s.call("PUT", "/v1/kv/exp", { json: 1, headers: { "idempotency-key": "short" } });
    assert.equal(later.status, 200);
    assert.ok(later.json.version > first.json.version, "an expired key applies anew");
    const before = s.server.store.stats().keys;
    const nowMs = Date.now() + 5000;
    assert.equal(await sweepExpired(s.server.store, nowMs), 1);
    assert.equal(s.server.store.stats().keys, before - 1);
    assert.equal(await sweepExpired(s.server.store, nowMs), 0);
  } finally {
    await s.stop();
  }
});
