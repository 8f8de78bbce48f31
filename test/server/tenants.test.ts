/**
 * Tenant isolation: no spelling of a key, path, range or idempotency key lets one tenant
 * read or write another's keys.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { rawStatus } from "../support/raw-http.js";
import { startTestServer, type TestServer } from "../support/server.js";

const ACME = "acme-token-0123456789";
const BETA = "beta-token-0123456789";
let s: TestServer;
let port: number;

before(async () => {
  s = await startTestServer({
    tokens: [
      { token: ACME, tenant: "acme" },
      { token: BETA, tenant: "beta" },
      { token: "acme2-token-0123456789", tenant: "acme2" },
    ],
  });
  port = s.server.address.port;
  for (const key of ["secret", "a/b", "../x", "k/acme/secret"]) {
    assert.equal((await s.call("PUT", `/v1/kv/${encodeURIComponent(key)}`, { json: `beta:${key}`, token: BETA })).status, 200);
  }
  assert.equal((await s.call("PUT", "/v1/kv/secret", { json: "acme2", token: "acme2-token-0123456789" })).status, 200);
});
after(() => s.stop());

test("path tricks stay inside the tenant: encoded slashes, dot segments, the storage layout", async () => {
  const paths = [
    "/v1/kv/../beta/secret",
    "/v1/kv/../../k/beta/secret",
    "/v1/kv/..%2Fbeta%2Fsecret",
    "/v1/kv/..%2F..%2Fk%2Fbeta%2Fsecret",
    "/v1/kv/%2E%2E/%2E%2E/k/beta/secret",
    "/v1/kv/k/beta/secret",
    "/v1/kv/k%2Fbeta%2Fsecret",
    "/v1/kv/%2Fk%2Fbeta%2Fsecret",
    "/v1/kv//secret",
    "/v1/kv/./secret",
    "/v1/kv/%00secret",
    "/v1/kv/secret%00",
    "/v1/kv/beta/secret",
    "/v1/kv/i/beta/anything",
    "/v1/kv/%252E%252E%252Fbeta%252Fsecret",
    "/v1/kv/..\\beta\\secret",
    "/v1/beta/kv/secret",
    "/v1/kv/secret?tenant=beta",
    "/v1/kv/a/b",
    "/v1/kv/../x",
  ];
  for (const path of paths) {
    const reply = await rawStatus(port, path, { authorization: `Bearer ${ACME}` });
    assert.ok(reply.status === 404 || reply.status === 400, `${path}: ${reply.status} ${reply.body}`);
    assert.doesNotMatch(reply.body, /beta:|acme2/, path);
  }
  // Writing by those paths creates keys in acme's own range and leaves beta's untouched.
  for (const path of paths.slice(0, 8)) {
    const put = await rawStatus(
      port,
      path,
      { authorization: `Bearer ${ACME}`, "content-type": "application/json" },
      "PUT",
      '"acme"',
    );
    assert.ok(put.status === 200 || put.status === 400 || put.status === 404, `${path}: ${put.status}`);
  }
  for (const key of ["secret", "a/b", "../x", "k/acme/secret"]) {
    assert.equal((await s.call("GET", `/v1/kv/${encodeURIComponent(key)}`, { token: BETA })).json, `beta:${key}`);
  }
});

test("no route is reachable without a token, whatever the spelling of the request target", async () => {
  for (const path of [
    "http://127.0.0.1/v1/kv/secret",
    "HTTP://x/v1/kv",
    "//v1/kv/secret",
    "/V1/kv/secret",
    "/v1/kv",
    "/nothing",
  ]) {
    const reply = await rawStatus(port, path);
    assert.ok(reply.status === 400 || reply.status === 401, `${path}: ${reply.status} ${reply.body}`);
    assert.doesNotMatch(reply.body, /beta:|acme/, path);
  }
  assert.equal((await rawStatus(port, "/healthz")).status, 200);
});

test("lists never cross the namespace, whatever the prefix, range or cursor", async () => {
  await s.call("PUT", "/v1/kv/mine", { json: "acme:mine", token: ACME });
  const queries = [
    "",
    "prefix=../",
    "prefix=../beta/",
    "prefix=k/beta/",
    "prefix=%2F",
    "start=%00&end=%EF%BF%BF",
    "start=../&end=~",
    "start=&end=",
    "reverse=true",
    "reverse=true&end=%F4%8F%BF%BF",
    `cursor=${Buffer.from("../beta/secret").toString("base64url")}`,
    `cursor=${Buffer.from("\u0000").toString("base64url")}&reverse=true`,
  ];
  for (const query of queries) {
    for (let page = 0, cursor = ""; page < 10; page++) {
      const reply = await s.call("GET", `/v1/kv?${query}${cursor}`, { token: ACME });
      assert.ok(reply.status === 200 || reply.status === 400, `${query}: ${reply.status}`);
      if (reply.status !== 200) break;
      for (const item of reply.json.items) assert.match(String(item.value), /^acme(:|$)/, `${query} showed ${item.key}`);
      if (reply.json.cursor === null) break;
      cursor = `&cursor=${reply.json.cursor}`;
    }
  }
  const beta = await s.call("GET", "/v1/kv", { token: BETA });
  assert.deepEqual(beta.json.items.map((i: { key: string }) => i.key).sort(), ["../x", "a/b", "k/acme/secret", "secret"]);
});

test("batches name keys inside the tenant only", async () => {
  const reply = await s.call("POST", "/v1/kv:batch", {
    token: ACME,
    json: {
      operations: [
        { type: "delete", key: "../beta/secret" },
        { type: "delete", key: "k/beta/secret" },
        { type: "put", key: "/../beta/secret", value: "acme:overwrite?" },
      ],
    },
  });
  assert.equal(reply.status, 200);
  assert.equal((await s.call("GET", "/v1/kv/secret", { token: BETA })).json, "beta:secret");
});

test("idempotency keys are per tenant: the same key in two tenants never meets", async () => {
  const a = await s.call("PUT", "/v1/kv/idem", { json: "acme:1", token: ACME, headers: { "idempotency-key": "shared" } });
  const b = await s.call("PUT", "/v1/kv/idem", { json: "beta:2", token: BETA, headers: { "idempotency-key": "shared" } });
  assert.equal(a.status, 200);
  assert.equal(b.status, 200, "not a 422 from acme's record");
  assert.equal(b.headers.get("idempotent-replayed"), null);
  assert.equal((await s.call("GET", "/v1/kv/idem", { token: BETA })).json, "beta:2");
  assert.equal((await s.call("GET", "/v1/kv/idem", { token: ACME })).json, "acme:1");
});
