/**
 * Every route of the HTTP API and every error status it documents, through real HTTP on
 * 127.0.0.1 with Node's fetch.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { wrapFileSystem } from "../../src/testing/index.js";
import { FaultyFileSystem } from "../support/faulty-fs.js";
import { startTestServer, type TestServer } from "../support/server.js";

describe("the key-value routes", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ bodyBytesMax: 4096, keyBytesMax: 64, batchOperationsMax: 10, listLimitMax: 50 });
  });
  after(() => s.stop());

  test("PUT stores a JSON value and answers its version as body and ETag; GET returns it as sent", async () => {
    const put = await s.call("PUT", "/v1/kv/greeting", {
      body: '{ "hello": "world" }',
      headers: { "content-type": "application/json" },
    });
    assert.equal(put.status, 200);
    assert.equal(put.json.key, "greeting");
    assert.ok(Number.isSafeInteger(put.json.version) && put.json.version > 0);
    assert.equal(put.headers.get("etag"), `"${put.json.version}"`);
    const get = await s.call("GET", "/v1/kv/greeting");
    assert.equal(get.status, 200);
    assert.equal(get.text, '{ "hello": "world" }');
    assert.equal(get.headers.get("etag"), `"${put.json.version}"`);
    assert.match(get.headers.get("content-type") ?? "", /^application\/json/);
    const again = await s.call("GET", "/v1/kv/greeting", { headers: { "if-none-match": `"${put.json.version}"` } });
    assert.equal(again.status, 304);
  });

  test("keys are percent-decoded once and may hold any UTF-8, slashes included", async () => {
    for (const key of ["a/b/c", "naïve café", "日本語", "100%", "with space", "../up", "%2F"]) {
      const path = `/v1/kv/${encodeURIComponent(key)}`;
      const put = await s.call("PUT", path, { json: { key } });
      assert.equal(put.status, 200, key);
      assert.equal(put.json.key, key);
      const get = await s.call("GET", path);
      assert.deepEqual(get.json, { key });
    }
  });

  test("If-Match makes a write conditional: 412 with the current version on a mismatch", async () => {
    const first = await s.call("PUT", "/v1/kv/cas", { json: 1 });
    const ok = await s.call("PUT", "/v1/kv/cas", { json: 2, headers: { "if-match": `"${first.json.version}"` } });
    assert.equal(ok.status, 200);
    const stale = await s.call("PUT", "/v1/kv/cas", { json: 3, headers: { "if-match": `"${first.json.version}"` } });
    assert.equal(stale.status, 412);
    assert.equal(stale.json.error.code, "LOGBOOK_PRECONDITION_FAILED");
    assert.equal(stale.json.error.currentVersion, ok.json.version);
    assert.equal((await s.call("GET", "/v1/kv/cas")).json, 2);
    const any = await s.call("PUT", "/v1/kv/cas", { json: 4, headers: { "if-match": "*" } });
    assert.equal(any.status, 200);
    const missing = await s.call("PUT", "/v1/kv/never-written", { json: 4, headers: { "if-match": "*" } });
    assert.equal(missing.status, 412);
    const bad = await s.call("PUT", "/v1/kv/cas", { json: 4, headers: { "if-match": "W/abc" } });
    assert.equal(bad.status, 400);
  });

  test("If-None-Match: * creates only", async () => {
    const created = await s.call("PUT", "/v1/kv/once", { json: "a", headers: { "if-none-match": "*" } });
    assert.equal(created.status, 200);
    const second = await s.call("PUT", "/v1/kv/once", { json: "b", headers: { "if-none-match": "*" } });
    assert.equal(second.status, 412);
    assert.equal(second.json.error.currentVersion, created.json.version);
    assert.equal((await s.call("GET", "/v1/kv/once")).json, "a");
  });

  test("DELETE removes a key (404 when absent, 412 on a stale If-Match)", async () => {
    const put = await s.call("PUT", "/v1/kv/doomed", { json: true });
    const stale = await s.call("DELETE", "/v1/kv/doomed", { headers: { "if-match": `"${put.json.version - 1}"` } });
    assert.equal(stale.status, 412);
    const deleted = await s.call("DELETE", "/v1/kv/doomed");
    assert.equal(deleted.status, 200);
    assert.equal(deleted.json.deleted, true);
    assert.ok(deleted.json.version > put.json.version);
    assert.equal((await s.call("GET", "/v1/kv/doomed")).status, 404);
    const again = await s.call("DELETE", "/v1/kv/doomed");
    assert.equal(again.status, 404);
    assert.equal(again.json.error.code, "LOGBOOK_NOT_FOUND");
  });

  test("the list pages through a range with a cursor, forwards and backwards", async () => {
    for (let i = 0; i < 25; i++) await s.call("PUT", `/v1/kv/list%2F${String(i).padStart(2, "0")}`, { json: i });
    const keys = async (query: string) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 20; page++) {
        const reply = await s.call("GET", `/v1/kv?${query}${cursor === null ? "" : `&cursor=${cursor}`}`);
        assert.equal(reply.status, 200, reply.text);
        for (const item of reply.json.items) {
          assert.equal(item.value, Number(item.key.slice(5)));
          assert.ok(item.version > 0);
          seen.push(item.key);
        }
        cursor = reply.json.cursor;
        if (cursor === null) return seen;
      }
      throw new Error("too many pages");
    };
    const all = Array.from({ length: 25 }, (_, i) => `list/${String(i).padStart(2, "0")}`);
    assert.deepEqual(await keys("prefix=list/&limit=7"), all);
    assert.deepEqual(await keys("prefix=list/&limit=4&reverse=true"), [...all].reverse());
    assert.deepEqual(await keys("start=list/05&end=list/09&limit=2"), all.slice(5, 9));
    assert.deepEqual(await keys("start=list/05&end=list/09&limit=3&reverse=true"), all.slice(5, 9).reverse());
    const capped = await s.call("GET", "/v1/kv?prefix=list/&limit=100000");
    assert.equal(capped.json.items.length, 25);
    for (const query of ["limit=0", "limit=-1", "limit=abc", "reverse=maybe", "cursor=%%%", "cursor=!!"]) {
      const reply = await s.call("GET", `/v1/kv?${query}`);
      assert.equal(reply.status, 400, query);
      assert.equal(reply.json.error.code, "LOGBOOK_BAD_REQUEST");
    }
  });

  test("a batch applies atomically; a failed version fails all of it with 409", async () => {
    const base = await s.call("PUT", "/v1/kv/b1", { json: "old" });
    const ok = await s.call("POST", "/v1/kv:batch", {
      json: {
        operations: [
          { type: "put", key: "b1", value: "new", ifVersion: base.json.version },
          { type: "put", key: "b2", value: { n: 2 }, ifVersion: 0 },
          { type: "delete", key: "b3" },
        ],
      },
    });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(ok.json.version > base.json.version);
    assert.equal((await s.call("GET", "/v1/kv/b2")).headers.get("etag"), `"${ok.json.version}"`);
    const conflict = await s.call("POST", "/v1/kv:batch", {
      json: {
        operations: [
          { type: "put", key: "b4", value: 4 },
          { type: "put", key: "b1", value: "newer", ifVersion: base.json.version },
        ],
      },
    });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.error.code, "LOGBOOK_CONFLICT");
    assert.equal(conflict.json.error.key, "b1");
    assert.equal(conflict.json.error.currentVersion, ok.json.version);
    assert.equal((await s.call("GET", "/v1/kv/b4")).status, 404, "nothing of a failed batch is applied");
    const tooMany = await s.call("POST", "/v1/kv:batch", {
      json: { operations: Array.from({ length: 11 }, (_, i) => ({ type: "put", key: `x${i}`, value: i })) },
    });
    assert.equal(tooMany.status, 413);
    assert.equal(tooMany.json.error.code, "LOGBOOK_BATCH_TOO_LARGE");
    for (const body of [
      {},
      { operations: [] },
      { operations: [{ type: "put", key: "a" }] },
      { operations: [{ type: "drop", key: "a" }] },
    ]) {
      const reply = await s.call("POST", "/v1/kv:batch", { json: body });
      assert.equal(reply.status, 400, JSON.stringify(body));
    }
  });

  test("errors: 400 malformed, 404 route, 413 body, 414 key, 415 content type", async () => {
    const malformed = await s.call("PUT", "/v1/kv/a", { body: "{nope", headers: { "content-type": "application/json" } });
    assert.equal(malformed.status, 400);
    assert.deepEqual(Object.keys(malformed.json.error).sort(), ["code", "message"]);
    assert.equal((await s.call("GET", "/v2/nothing")).status, 404);
    assert.equal((await s.call("GET", "/v2/nothing")).json.error.code, "LOGBOOK_NOT_FOUND");
    const large = await s.call("PUT", "/v1/kv/a", { json: "x".repeat(5000) });
    assert.equal(large.status, 413);
    assert.equal(large.json.error.code, "LOGBOOK_BODY_TOO_LARGE");
    const long = await s.call("PUT", `/v1/kv/${"k".repeat(65)}`, { json: 1 });
    assert.equal(long.status, 414);
    assert.equal(long.json.error.code, "LOGBOOK_KEY_TOO_LONG");
    assert.equal((await s.call("GET", `/v1/kv/${"é".repeat(33)}`)).status, 414, "the limit counts UTF-8 bytes");
    const text = await s.call("PUT", "/v1/kv/a", { body: "1", headers: { "content-type": "text/plain" } });
    assert.equal(text.status, 415);
    assert.equal(text.json.error.code, "LOGBOOK_UNSUPPORTED_MEDIA_TYPE");
    const none = await s.call("PUT", "/v1/kv/a", { body: new Uint8Array([0x31]) });
    assert.equal(none.status, 415);
    const empty = await s.call("PUT", "/v1/kv/", { json: 1 });
    assert.equal(empty.status, 400);
  });

  test("health: /healthz and /readyz answer while serving", async () => {
    assert.deepEqual((await s.call("GET", "/healthz")).json, { status: "ok" });
    const ready = await s.call("GET", "/readyz");
    assert.equal(ready.status, 200);
    assert.equal(ready.json.status, "ready");
  });
});

describe("tokens", () => {
  let s: TestServer;
  const writer = "writer-token-0123456789";
  const reader = "reader-token-0123456789";
  before(async () => {
    s = await startTestServer({
      tokens: [
        { token: writer, tenant: "acme" },
        { token: reader, tenant: "acme", access: "read" },
      ],
    });
  });
  after(() => s.stop());

  test("401 without a token or with a bad one, 403 for a write with a read-only token", async () => {
    const none = await s.call("GET", "/v1/kv/a");
    assert.equal(none.status, 401);
    assert.equal(none.json.error.code, "LOGBOOK_UNAUTHORIZED");
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
    for (const authorization of ["Bearer wrong-token-0123456789", "Basic abc", "Bearer", `bearer ${writer}x`, writer]) {
      const reply = await s.call("GET", "/v1/kv/a", { headers: { authorization } });
      assert.equal(reply.status, 401, authorization);
    }
    assert.equal((await s.call("PUT", "/v1/kv/a", { json: 1, token: writer })).status, 200);
    const read = await s.call("GET", "/v1/kv/a", { token: reader });
    assert.equal(read.status, 200);
    const forbidden = await s.call("PUT", "/v1/kv/a", { json: 2, token: reader });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.json.error.code, "LOGBOOK_FORBIDDEN");
    assert.equal((await s.call("POST", "/v1/kv:batch", { json: { operations: [] }, token: reader })).status, 403);
    assert.equal((await s.call("DELETE", "/v1/kv/a", { token: reader })).status, 403);
    assert.equal((await s.call("GET", "/healthz")).status, 200, "health needs no token");
  });
});

describe("backpressure and fail-stop", () => {
  test("beyond the in-flight bound, writes get 429 with Retry-After at once; none is lost", async () => {
    // A disk whose fdatasync takes 150 ms keeps writes in flight long enough to fill the bound
    // (but for the spare segment's zero-fill, which syncs every MiB and only slows closing).
    const slow = wrapFileSystem(new NodeFileSystem(), {
      handle: (inner) => ({
        datasync: async () => {
          if (inner.path.includes("spare")) return inner.datasync();
          await new Promise((resolve) => setTimeout(resolve, 150));
          await inner.datasync();
        },
      }),
    });
    const s = await startTestServer({ inFlightWritesMax: 4 }, { fileSystem: slow });
    try {
      const replies = await Promise.all(Array.from({ length: 24 }, (_, i) => s.call("PUT", `/v1/kv/p${i}`, { json: i })));
      const statuses = replies.map((r) => r.status);
      const overloaded = replies.filter((r) => r.status === 429);
      assert.ok(overloaded.length >= 12, `expected most to be refused, got ${statuses}`);
      assert.ok(replies.some((r) => r.status === 200));
      for (const reply of overloaded) {
        assert.equal(reply.headers.get("retry-after"), "1");
        assert.equal(reply.json.error.code, "LOGBOOK_OVERLOADED");
      }
      for (const [i, reply] of replies.entries()) {
        const get = await s.call("GET", `/v1/kv/p${i}`);
        assert.equal(get.status, reply.status === 200 ? 200 : 404, `p${i}`);
      }
    } finally {
      await s.stop();
    }
  });

  test("after a failed fsync writes get 503, reads go on, /readyz and /healthz say the log failed", async () => {
    const faulty = new FaultyFileSystem(new NodeFileSystem());
    const s = await startTestServer({ checkpointOnExit: false }, { fileSystem: faulty });
    try {
      assert.equal((await s.call("PUT", "/v1/kv/kept", { json: "acknowledged" })).status, 200);
      faulty.failAfter("datasync-eio", 0);
      const failed = await s.call("PUT", "/v1/kv/lost", { json: "never acknowledged" });
      assert.equal(failed.status, 503);
      assert.equal(failed.json.error.code, "LOGBOOK_UNAVAILABLE");
      const after = await s.call("PUT", "/v1/kv/later", { json: 1 });
      assert.equal(after.status, 503);
      assert.ok(after.headers.get("retry-after"));
      assert.equal((await s.call("GET", "/v1/kv/kept")).json, "acknowledged");
      assert.equal((await s.call("GET", "/v1/kv/lost")).status, 404);
      const ready = await s.call("GET", "/readyz");
      assert.equal(ready.status, 503);
      assert.match(ready.json.reason, /LOGBOOK_LOG_FAILED|LOGBOOK_IO/);
      const health = await s.call("GET", "/healthz");
      assert.equal(health.status, 503);
      assert.equal(health.json.code, ready.json.reason.split(": ")[1]);
    } finally {
      await s.stop();
    }
  });
});
