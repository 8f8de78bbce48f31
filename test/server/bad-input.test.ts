/**
 * Bad input, hand-written and generated (over 500 requests, and a flood of connections): the
 * server answers each with the right 4xx status or drops the connection, never a 5xx, and stays
 * up for the next client. The run prints how many of each class it sent.
 * Timeouts are set tight here (1 s for headers, 2 s for a request) so slow clients are shown
 * to be cut off within a bounded time.
 */
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { type RawAnswer, rawExchange, rawRequest } from "../support/raw-http.js";
import { startTestServer, type TestServer } from "../support/server.js";

const BODY_MAX = 1024;
const KEY_MAX = 64;
let s: TestServer;
let port: number;
/** What each test sends, counted by class; `kind` is the class of the test running now. */
const sent = new Map<string, number>();
let kind = "";
const FLOOD = "connections in a flood";

function count(cases = 1): void {
  sent.set(kind, (sent.get(kind) ?? 0) + cases);
}
const serverErrors: string[] = [];

/** Sends a raw request and checks the answer is one of `expected` (a status, or "closed"). */
async function expectRaw(name: string, raw: string | Buffer | ((socket: Socket) => void), expected: (number | "closed")[]) {
  count();
  const answer: RawAnswer = await rawExchange(port, raw, 5000);
  if (answer.status !== undefined && answer.status >= 500) serverErrors.push(`${name}: ${answer.status}`);
  const outcome = answer.status ?? (answer.closedByServer ? "closed" : "hung");
  assert.ok(expected.includes(outcome as number | "closed"), `${name}: got ${outcome}, expected ${expected.join("|")}`);
  if (answer.status !== undefined && answer.status >= 400) {
    const body = answer.text.slice(answer.text.indexOf("\r\n\r\n") + 4);
    // (a chunked answer has the chunk's size before it)
    assert.match(body, /^(?:[0-9a-f]+\r\n)?\{"error":\{"code":"LOGBOOK_[A-Z_]+","message":/, `${name}: error body ${body}`);
  }
}

async function expectCall(
  name: string,
  method: string,
  path: string,
  init: Parameters<TestServer["call"]>[2],
  expected: number[],
) {
  count();
  const reply = await s.call(method, path, init);
  if (reply.status >= 500) serverErrors.push(`${name}: ${reply.status} ${reply.text}`);
  assert.ok(expected.includes(reply.status), `${name}: got ${reply.status} ${reply.text}, expected ${expected.join("|")}`);
  if (reply.status >= 400) assert.equal(typeof reply.json?.error?.code, "string", `${name}: error body ${reply.text}`);
}

const json = { "content-type": "application/json" };

describe("bad input", () => {
  before(async () => {
    s = await startTestServer({
      bodyBytesMax: BODY_MAX,
      keyBytesMax: KEY_MAX,
      headersTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      idleTimeoutMs: 3000,
      keepAliveTimeoutMs: 1000,
      connectionsMax: 200,
    });
    port = s.server.address.port;
  });
  after(async () => {
    const health = await s.call("GET", "/healthz");
    await s.stop();
    const classes = [...sent].filter(([name]) => name !== FLOOD);
    const requests = classes.reduce((sum, [, n]) => sum + n, 0);
    process.stdout.write(
      `# bad input: ${requests} bad requests (${classes.map(([name, n]) => `${n} ${name}`).join(", ")}), ` +
        `then ${sent.get(FLOOD) ?? 0} ${FLOOD}; server up: ${health.status === 200}, 5xx answers: ${serverErrors.length}\n`,
    );
    assert.equal(health.status, 200, "the server is still up after everything");
    assert.deepEqual(serverErrors, [], "no input made the server answer 5xx");
    assert.ok(requests >= 500, `only ${requests} bad requests`);
  });

  test("generated bodies: valid JSON is stored, anything else is a 400", async () => {
    kind = "generated PUT bodies";
    const almostJson = fc
      .tuple(fc.json(), fc.nat(), fc.constantFrom("", "}", "{", ",", '"', "\\", "\u0000", "NaN", "'"))
      .map(([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk + text.slice(at % (text.length + 1)));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 60 }), almostJson, fc.json()), async (body) => {
        let valid = body.trim().length > 0;
        try {
          JSON.parse(body);
        } catch {
          valid = false;
        }
        const tooLarge = Buffer.byteLength(body) > BODY_MAX;
        await expectCall(
          `PUT ${JSON.stringify(body)}`,
          "PUT",
          "/v1/kv/gen",
          { body, headers: json },
          tooLarge ? [413] : valid ? [200] : [400],
        );
      }),
      { numRuns: 160, seed: 1 },
    );
  });

  test("generated batch bodies of the wrong shape are 400s", async () => {
    kind = "generated batch bodies";
    const op = fc.record(
      {
        type: fc.oneof(fc.constantFrom("put", "delete", "PUT", ""), fc.anything()),
        key: fc.anything(),
        value: fc.anything(),
        ifVersion: fc.anything(),
      },
      { requiredKeys: [] },
    );
    // Values of the wrong JSON type are refused, not converted (a key 1 into "1", null into 0).
    const put = (fields: Record<string, unknown>) => ({ operations: [{ type: "put", key: "k", value: 1, ...fields }] });
    for (const wrong of [
      put({ key: 1 }),
      put({ key: true }),
      put({ key: ["arr"] }),
      put({ ifVersion: null }),
      put({ ifVersion: false }),
      put({ ifVersion: [0] }),
      put({ ifVersion: "0" }),
      put({ extra: 1 }),
      { ...put({}), extra: 1 },
      { operations: [{ type: "delete", key: "k", value: 1 }] },
    ]) {
      await expectCall(`batch ${JSON.stringify(wrong)}`, "POST", "/v1/kv:batch", { json: wrong }, [400]);
    }
    const body = fc.oneof(fc.anything(), fc.record({ operations: fc.oneof(fc.array(op, { maxLength: 4 }), fc.anything()) }));
    await fc.assert(
      fc.asyncProperty(body, async (value) => {
        const text = JSON.stringify(value);
        if (text === undefined) return;
        await expectCall(`batch ${text}`, "POST", "/v1/kv:batch", { body: text, headers: json }, [200, 400, 409, 413, 414]);
      }),
      { numRuns: 120, seed: 2 },
    );
  });

  test("generated keys: invalid UTF-8 or empty is 400, over the limit 414, anything else a real key", async () => {
    kind = "generated keys";
    const decoder = new TextDecoder("utf-8", { fatal: true });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 80 }), async (bytes) => {
        const path = `/v1/kv/${[...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")}`;
        let expected: number;
        try {
          decoder.decode(bytes);
          expected = bytes.length === 0 ? 400 : bytes.length > KEY_MAX ? 414 : 404;
        } catch {
          expected = bytes.length * 3 > KEY_MAX * 3 ? 414 : 400;
        }
        await expectCall(
          `key ${Buffer.from(bytes).toString("hex")}`,
          "GET",
          path,
          {},
          expected === 414 ? [400, 414] : [expected],
        );
      }),
      { numRuns: 120, seed: 3 },
    );
  });

  test("generated list queries are answered 200 or 400, never more", async () => {
    kind = "generated list queries";
    const name = fc.constantFrom("prefix", "start", "end", "limit", "reverse", "cursor", "tenant", "");
    const value = fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.constantFrom("-1", "0", "1e309", "true", "null", "%", "%ZZ", "%C0%AF"),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(name, value), { maxLength: 4 }), async (pairs) => {
        const query = pairs.map(([k, v]) => `${k}=${/%/.test(v) ? v : encodeURIComponent(v)}`).join("&");
        await expectCall(`list ?${query}`, "GET", `/v1/kv?${query}`, {}, [200, 400]);
      }),
      { numRuns: 80, seed: 4 },
    );
    // Numbers in one spelling only; bounds and cursors no longer than a key.
    const long = "p".repeat(KEY_MAX + 1);
    for (const query of ["limit=0x10", "limit=1e3", "limit=5.0", `prefix=${long}`, `start=${long}`, `end=${long}`]) {
      await expectCall(`list ?${query}`, "GET", `/v1/kv?${query}`, {}, [400]);
    }
    const cursor = Buffer.from(long).toString("base64url");
    await expectCall("list with a cursor longer than a key", "GET", `/v1/kv?cursor=${cursor}`, {}, [400]);
  });

  test("hand-written protocol abuse: lengths, chunking, headers, methods", async () => {
    kind = "hand-written protocol abuses";
    const put = (headers: Record<string, string>, body = "") => {
      const framed = Object.keys(headers).some((name) => /^(content-length|transfer-encoding)$/i.test(name));
      const length: Record<string, string> = framed || body === "" ? {} : { "Content-Length": String(Buffer.byteLength(body)) };
      return rawRequest("PUT", "/v1/kv/raw", { ...json, ...length, ...headers }, body);
    };
    const big = "x".repeat(BODY_MAX * 10);
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const table: [string, string | Buffer, (number | "closed")[]][] = [
      ["negative Content-Length", put({ "Content-Length": "-1" }, "1"), [400, "closed"]],
      ["non-numeric Content-Length", put({ "Content-Length": "abc" }, "1"), [400, "closed"]],
      ["huge Content-Length", put({ "Content-Length": "99999999999999999999" }, "1"), [400, 413, "closed"]],
      ["two Content-Lengths", put({ "Content-Length": "1", "content-length": "2" }, "12"), [400, "closed"]],
      ["Content-Length list", put({ "Content-Length": "1, 2" }, "12"), [400, "closed"]],
      ["Content-Length ten times the limit", put({ "Content-Length": String(big.length) }, `"${big.slice(2)}"`), [413, "closed"]],
      ["chunked body ten times the limit", put({ "Transfer-Encoding": "chunked" }, `${chunk(big)}0\r\n\r\n`), [413, "closed"]],
      [
        "chunked and Content-Length",
        put({ "Transfer-Encoding": "chunked", "Content-Length": "3" }, `${chunk("1")}0\r\n\r\n`),
        [400, "closed"],
      ],
      ["bad chunk size", put({ "Transfer-Encoding": "chunked" }, "zz\r\n1\r\n0\r\n\r\n"), [400, "closed"]],
      [
        "overflowing chunk size",
        put({ "Transfer-Encoding": "chunked" }, "ffffffffffffffffffff\r\n1\r\n0\r\n\r\n"),
        [400, 413, "closed"],
      ],
      ["chunk without CRLF", put({ "Transfer-Encoding": "chunked" }, "1\r\n1X0\r\n\r\n"), [400, "closed"]],
      ["unknown transfer coding", put({ "Transfer-Encoding": "gzip" }, "1"), [400, 411, 415, "closed"]],
      ["chunked twice", put({ "Transfer-Encoding": "chunked, chunked" }, `${chunk("1")}0\r\n\r\n`), [200, 400, "closed"]],
      [
        "huge chunk extension",
        put({ "Transfer-Encoding": "chunked" }, `1;${"e".repeat(20000)}\r\n1\r\n0\r\n\r\n`),
        [400, 413, "closed"],
      ],
      ["valid chunked", put({ "Transfer-Encoding": "chunked" }, `${chunk('{"a":')}${chunk("1}")}0\r\n\r\n`), [200]],
      ["no request line", "\r\n\r\n", [400, 408, "closed"]],
      ["garbage", "GARBAGE\r\n\r\n", [400, "closed"]],
      ["HTTP/2 preface on HTTP/1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", [400, 505, "closed"]],
      ["HTTP/9", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", [400, 505, "closed"]],
      ["header without colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", [400, "closed"]],
      ["NUL in a header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n", [400, "closed"]],
      ["header over 16 KiB", rawRequest("GET", "/healthz", { "X-Big": "b".repeat(20_000) }), [431, 400, "closed"]],
      [
        "2000 headers",
        rawRequest("GET", "/healthz", Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`X-${i}`, "1"]))),
        [200, 431, 400, "closed"],
      ],
      ["path over 16 KiB", rawRequest("GET", `/v1/kv/${"p".repeat(20_000)}`, {}), [414, 431, 400, "closed"]],
      ["unknown method", rawRequest("FROB", "/v1/kv/a", {}), [400, 404, 405, "closed"]],
      ["PATCH", rawRequest("PATCH", "/v1/kv/a", { ...json, "Content-Length": "1" }, "1"), [404, 405]],
      ["TRACE", rawRequest("TRACE", "/v1/kv/a", {}), [400, 404, 405]],
      ["CONNECT", "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n", [400, 404, 405, "closed"]],
      ["absolute URI", rawRequest("GET", "http://evil.example/v1/kv/a", {}), [400, 404]],
      ["asterisk target", rawRequest("OPTIONS", "*", {}), [400, 404]],
      ["If-Match list", put({ "If-Match": '"1", "2"', "Content-Length": "1" }, "1"), [400]],
      ["If-Match negative", put({ "If-Match": '"-1"', "Content-Length": "1" }, "1"), [400]],
      ["If-Match huge", put({ "If-Match": '"99999999999999999999"', "Content-Length": "1" }, "1"), [400]],
      ["If-Match float", put({ "If-Match": "1e3", "Content-Length": "1" }, "1"), [400]],
      ["If-Match unquoted", put({ "If-Match": "1", "Content-Length": "1" }, "1"), [400]],
      ["Content-Encoding gzip", put({ "Content-Encoding": "gzip", "Content-Length": "1" }, "1"), [415]],
      ["Content-Encoding br on a batch", rawRequest("POST", "/v1/kv:batch", { ...json, "Content-Encoding": "br" }), [415]],
      ["Idempotency-Key with a space", put({ "Idempotency-Key": '"a b"', "Content-Length": "1" }, "1"), [400]],
      ["Idempotency-Key not ASCII", put({ "Idempotency-Key": "caf\u00e9", "Content-Length": "1" }, "1"), [400]],
      ["If-Match and If-None-Match", put({ "If-Match": "*", "If-None-Match": "*", "Content-Length": "1" }, "1"), [400]],
      ["If-None-Match a tag on a write", put({ "If-None-Match": '"3"', "Content-Length": "1" }, "1"), [400]],
      ["Idempotency-Key of 1000 chars", put({ "Idempotency-Key": "k".repeat(1000), "Content-Length": "1" }, "1"), [400]],
      ["Idempotency-Key of 255 chars, over keyBytesMax", put({ "Idempotency-Key": "i".repeat(255) }, "1"), [200]],
      ["Idempotency-Key with a quote inside", put({ "Idempotency-Key": 'a"b', "Content-Length": "1" }, "1"), [400]],
      [
        "content type json-ish",
        rawRequest("PUT", "/v1/kv/raw", { "Content-Type": "application/jsonx", "Content-Length": "1" }, "1"),
        [415],
      ],
      [
        "content type form",
        rawRequest("PUT", "/v1/kv/raw", { "Content-Type": "application/x-www-form-urlencoded", "Content-Length": "3" }, "a=1"),
        [415],
      ],
      [
        "content type multipart",
        rawRequest("PUT", "/v1/kv/raw", { "Content-Type": "multipart/form-data; boundary=x", "Content-Length": "1" }, "1"),
        [415],
      ],
      ["content type empty", rawRequest("PUT", "/v1/kv/raw", { "Content-Type": "", "Content-Length": "1" }, "1"), [400, 415]],
      ["no content type", rawRequest("PUT", "/v1/kv/raw", { "Content-Length": "1" }, "1"), [415]],
      ["no body", put({ "Content-Length": "0" }), [400]],
      ["JSON with a BOM", put({ "Content-Length": "4" }, "\ufeff1"), [400]],
      ["deep nesting", put({}, `${"[".repeat(BODY_MAX * 5)}${"]".repeat(BODY_MAX * 5)}`), [413, "closed"]],
      ["proto pollution", put({}, '{"__proto__":{"polluted":1}}'), [200, 400]],
      [
        "duplicate Authorization",
        rawRequest("GET", "/v1/kv/a", { Authorization: "Bearer a", authorization: "Bearer b" }),
        [400, 404],
      ],
      [
        "Expect: 100-continue over the limit",
        put({ Expect: "100-continue", "Content-Length": String(BODY_MAX * 10) }),
        [413, 417, "closed"],
      ],
    ];
    for (const [name, raw, expected] of table) await expectRaw(name, raw, expected);
    const invalidUtf8 = Buffer.concat([Buffer.from(put({ "Content-Length": "4" })), Buffer.from([0x22, 0xc3, 0x28, 0x22])]);
    await expectRaw("invalid UTF-8 body", invalidUtf8, [400]);
    assert.equal(({} as { polluted?: number }).polluted, undefined);
  });

  test("slowloris: headers or a body at one byte a second are cut off", async () => {
    kind = "slow clients";
    const drip = (bytes: string) => (socket: Socket) => {
      let at = 0;
      const timer = setInterval(() => {
        if (at >= bytes.length || socket.destroyed) return clearInterval(timer);
        socket.write(bytes[at++] as string);
      }, 1000);
      socket.on("close", () => clearInterval(timer));
    };
    const headers = rawRequest("PUT", "/v1/kv/slow", { ...json, "Content-Length": "20" }, "12345678901234567890");
    // (headers alone are ~90 bytes: at a byte a second they would take 90 s to arrive)
    const headerEnd = headers.indexOf("\r\n\r\n") + 4;
    const bodyDrip = (socket: Socket) => {
      socket.write(headers.slice(0, headerEnd));
      drip(headers.slice(headerEnd))(socket);
    };
    // Each must be answered 408 or dropped within expectRaw's deadline (5 s), well before it
    // could finish (20 s of body at a byte a second): the timeouts cut it off, not the client.
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => expectRaw(`slow headers ${i}`, drip(headers), [408, "closed"])),
      ...Array.from({ length: 5 }, (_, i) => expectRaw(`slow body ${i}`, bodyDrip, [408, "closed"])),
    ]);
  });

  test("a connection flood is capped and the server serves again once it passes", async () => {
    kind = FLOOD;
    const sockets: Socket[] = [];
    await Promise.all(
      Array.from(
        { length: 400 },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect({ host: "127.0.0.1", port }, () => resolve());
            socket.on("error", () => resolve());
            sockets.push(socket);
          }),
      ),
    );
    count(400);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const open = await new Promise<number>((resolve) => s.server.app.server.getConnections((_e, n) => resolve(n)));
    assert.ok(open <= 200, `${open} connections open, over connectionsMax`);
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await s.call("GET", "/healthz")).status, 200);
  });

  test("clients that disconnect mid-request leave the server serving", async () => {
    kind = "clients gone mid-request";
    const full = rawRequest("PUT", "/v1/kv/cut", { ...json, "Content-Length": "100" }, '"partial');
    for (let i = 0; i < 30; i++) {
      count();
      await new Promise<void>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port }, () => {
          socket.write(full.slice(0, (i * 7) % full.length), () => {
            socket.destroy();
            resolve();
          });
        });
        socket.on("error", () => resolve());
      });
    }
    // A complete write whose client is gone before the answer: applied or not, nothing breaks.
    count();
    await new Promise<void>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.end(rawRequest("PUT", "/v1/kv/gone", { ...json, "Content-Length": "1" }, "7"), () => {
          socket.destroy();
          resolve();
        });
      });
    });
    assert.equal((await s.call("GET", "/v1/kv/cut")).status, 404);
    assert.equal((await s.call("PUT", "/v1/kv/after", { json: 1 })).status, 200);
  });
});
