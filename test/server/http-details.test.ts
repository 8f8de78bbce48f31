/**
 * The details of HTTP the API promises: how numbers are spelled in a query, how entity tags
 * and Idempotency-Key are read, what a body's Content-Encoding does, that every error body
 * has the documented shape, and how keys that clients rewrite (".", "..") are reached.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { rawExchange, rawRequest } from "../support/raw-http.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** The status and parsed body of a raw exchange's first response. */
async function rawCall(port: number, raw: string): Promise<{ status: number | undefined; json: unknown }> {
  const answer = await rawExchange(port, raw, 5000);
  const body = answer.text.slice(answer.text.indexOf("\r\n\r\n") + 4);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: answer.status, json };
}

/** Whether a body has the documented error shape: { error: { code: "LOGBOOK_…", message } }. */
function isErrorBody(json: unknown): boolean {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  return typeof error?.code === "string" && error.code.startsWith("LOGBOOK_") && typeof error.message === "string";
}

describe("shutting down", () => {
  test("a request that arrives while the server drains gets 503 LOGBOOK_UNAVAILABLE in the error shape", async () => {
    const s = await startTestServer({});
    const socket = connect({ host: "127.0.0.1", port: s.server.address.port });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    try {
      await new Promise((resolve) => socket.once("connect", resolve));
      // A PUT whose body is not complete holds the drain open; a request pipelined behind it
      // arrives once shutdown began.
      socket.write(
        rawRequest("PUT", "/v1/kv/a", { "Content-Type": "application/json", "Content-Length": "5" }, "12").replace(
          "Connection: close\r\n",
          "",
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopped = s.stop();
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write("345GET /v1/kv/a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await new Promise<void>((resolve) => {
        const deadline = setTimeout(resolve, 3000);
        socket.once("close", () => {
          clearTimeout(deadline);
          resolve();
        });
      });
      await stopped;
      const text = Buffer.concat(chunks).toString("utf8");
      const second = text.slice(text.indexOf("HTTP/1.1", 1));
      assert.match(text, /^HTTP\/1\.1 200/, "the request in flight is answered");
      assert.match(second, /^HTTP\/1\.1 503/, second);
      const body = second.slice(second.indexOf("\r\n\r\n") + 4);
      assert.equal(JSON.parse(body).error.code, "LOGBOOK_UNAVAILABLE");
    } finally {
      socket.destroy();
    }
  });
});

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

  test("a weak entity tag in If-None-Match matches on a GET: 304", async () => {
    const put = await s.call("PUT", "/v1/kv/weak", { json: "w" });
    const tag = `"${put.json.version}"`;
    for (const header of [`W/${tag}`, `"1", W/${tag}`, ` W/${tag} `]) {
      const reply = await s.call("GET", "/v1/kv/weak", { headers: { "if-none-match": header } });
      assert.equal(reply.status, 304, header);
    }
    assert.equal((await s.call("GET", "/v1/kv/weak", { headers: { "if-none-match": 'W/"1"' } })).status, 200);
  });

  test("If-Match takes a quoted entity tag or *: an unquoted version is 400 and changes nothing", async () => {
    const put = await s.call("PUT", "/v1/kv/quoted", { json: 1 });
    for (const header of [`${put.json.version}`, `"${put.json.version}`, `${put.json.version}"`]) {
      const reply = await s.call("PUT", "/v1/kv/quoted", { json: 2, headers: { "if-match": header } });
      assert.equal(reply.status, 400, `If-Match: ${header}`);
      assert.equal(reply.json.error.code, "LOGBOOK_BAD_REQUEST");
    }
    assert.equal((await s.call("GET", "/v1/kv/quoted")).json, 1);
  });

  test("errors the HTTP parser finds are answered in the documented error shape", async () => {
    const port = s.server.address.port;
    const cases: [string, string, number][] = [
      ["a Content-Length that is no number", rawRequest("PUT", "/v1/kv/a", { "Content-Length": "abc" }, "1"), 400],
      ["a header without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400],
      ["headers over 16 KiB", rawRequest("GET", "/v1/kv/a", { "X-Big": "b".repeat(20_000) }), 431],
    ];
    for (const [name, raw, status] of cases) {
      const reply = await rawCall(port, raw);
      assert.equal(reply.status, status, name);
      assert.ok(isErrorBody(reply.json), `${name}: ${JSON.stringify(reply.json)}`);
    }
  });

  test("a body with a Content-Encoding other than identity is refused with 415, not stored as sent", async () => {
    const json = { "content-type": "application/json" };
    const gzip = await s.call("PUT", "/v1/kv/zipped", {
      body: gzipSync('"z"'),
      headers: { ...json, "content-encoding": "gzip" },
    });
    assert.equal(gzip.status, 415, gzip.text);
    assert.equal(gzip.json.error.code, "LOGBOOK_UNSUPPORTED_MEDIA_TYPE");
    const plain = await s.call("PUT", "/v1/kv/zipped", { body: '"z"', headers: { ...json, "content-encoding": "br" } });
    assert.equal(plain.status, 415, "a plain JSON body labelled br is not stored either");
    const batch = await s.call("POST", "/v1/kv:batch", {
      body: JSON.stringify({ operations: [{ type: "put", key: "zipped", value: 1 }] }),
      headers: { ...json, "content-encoding": "deflate" },
    });
    assert.equal(batch.status, 415);
    assert.equal((await s.call("GET", "/v1/kv/zipped")).status, 404);
    const identity = await s.call("PUT", "/v1/kv/zipped", { body: '"z"', headers: { ...json, "content-encoding": "identity" } });
    assert.equal(identity.status, 200);
  });

  test("a prefix, bound or cursor over keyBytesMax is a 400 that names keyBytesMax, not the store's internal limit", async () => {
    const long = "p".repeat(65);
    const cursor = Buffer.from(long).toString("base64url");
    for (const query of [`prefix=${long}`, `start=${long}`, `end=${long}`, `cursor=${cursor}`]) {
      const reply = await s.call("GET", `/v1/kv?${query}`);
      assert.equal(reply.status, 400, `${query.slice(0, 10)}: ${reply.text}`);
      assert.equal(reply.json.error.code, "LOGBOOK_BAD_REQUEST");
      assert.doesNotMatch(reply.json.error.message, /\d{3,}/, "no internal figure in the message");
    }
    assert.equal((await s.call("GET", `/v1/kv?prefix=${"p".repeat(64)}`)).status, 200, "64 bytes is within the limit");
  });

  test("an Idempotency-Key is 1-255 visible ASCII characters: spaces and non-ASCII are 400", async () => {
    const port = s.server.address.port;
    const put = (key: string) =>
      rawRequest(
        "PUT",
        "/v1/kv/idem",
        { "Content-Type": "application/json", "Content-Length": "1", "Idempotency-Key": key },
        "1",
      );
    for (const key of ["a b", '"a b"', "caf\u00e9", '"\u00e9"', "\u00ff"]) {
      const reply = await rawCall(port, put(key));
      assert.equal(reply.status, 400, `Idempotency-Key: ${JSON.stringify(key)}`);
      assert.ok(isErrorBody(reply.json));
    }
    assert.equal((await rawCall(port, put('"ok-key_1.2~3"'))).status, 200);
  });

  test("the keys . and .. are reached percent-encoded (%2E, %2E%2E) or as raw path segments", async () => {
    const port = s.server.address.port;
    for (const [path, key] of [
      ["/v1/kv/%2E", "."],
      ["/v1/kv/%2E%2E", ".."],
      ["/v1/kv/..", ".."],
      ["/v1/kv/a%2F..", "a/.."],
    ] as const) {
      const raw = rawRequest("PUT", path, { "Content-Type": "application/json", "Content-Length": "1" }, "7");
      const put = await rawCall(port, raw);
      assert.equal(put.status, 200, path);
      assert.equal((put.json as { key: string }).key, key, path);
    }
    const listed = await s.call("GET", "/v1/kv?prefix=.");
    assert.deepEqual(
      listed.json.items.map((item: { key: string }) => item.key),
      [".", ".."],
    );
  });
});
