/**
 * /status.json, what the status page shows: the server's own facts (data directory, listen
 * address, version, sync mode), free disk, the process's real memory beside the store's
 * estimate, error counts, and a checkpoint age only when there is a checkpoint. With
 * protectObservability on, /status.json and /metrics need a token like any data route.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { resolveConfig } from "../../src/server/config.js";
import { startTestServer } from "../support/server.js";

const PACKAGE = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
const TOKEN = "acme-token-0123456789";
const TOKENS = [{ tenant: "acme", token: TOKEN }];

test("the checkpoint age is null until a checkpoint exists, not the uptime", async () => {
  const s = await startTestServer({ checkpointOnExit: false });
  try {
    await new Promise((done) => setTimeout(done, 1100));
    const before = (await s.call("GET", "/status.json")).json;
    assert.ok(before.uptimeSeconds >= 1);
    assert.equal(before.checkpointAgeSeconds, null);
    await s.call("PUT", "/v1/kv/a", { json: 1 });
    await s.server.store.checkpoint();
    const after = (await s.call("GET", "/status.json")).json;
    assert.equal(after.checkpointAgeSeconds, 0);
  } finally {
    await s.stop();
  }
});

test("status.json names the data directory, listen address, version and sync mode", async () => {
  const s = await startTestServer({ sync: "interval" });
  try {
    const status = (await s.call("GET", "/status.json")).json;
    assert.equal(status.dataDir, resolve(s.dir));
    assert.deepEqual(status.listening, [s.url]);
    assert.equal(status.version, PACKAGE.version);
    assert.equal(status.sync, "interval");
  } finally {
    await s.stop();
  }
});

test("status.json reports free disk bytes, the process's RSS and heap beside the store's estimate", async () => {
  const s = await startTestServer();
  try {
    const status = (await s.call("GET", "/status.json")).json;
    assert.ok(Number.isSafeInteger(status.diskFreeBytes) && status.diskFreeBytes > 0, `diskFreeBytes ${status.diskFreeBytes}`);
    assert.ok(status.diskTotalBytes >= status.diskFreeBytes);
    assert.ok(status.rssBytes > status.memoryBytes, "RSS covers the estimate and the rest of the process");
    assert.ok(status.heapUsedBytes > 0 && status.heapUsedBytes < status.rssBytes);
  } finally {
    await s.stop();
  }
});

test("status.json counts client errors (4xx) and server errors (5xx) apart", async () => {
  const s = await startTestServer();
  try {
    assert.equal((await s.call("GET", "/v1/nothing-here")).status, 404);
    assert.equal((await s.call("PUT", "/v1/kv/a", { body: "{", headers: { "content-type": "application/json" } })).status, 400);
    const status = (await s.call("GET", "/status.json")).json;
    assert.equal(status.clientErrors, 2);
    assert.equal(status.serverErrors, 0);
  } finally {
    await s.stop();
  }
});

test("protectObservability defaults on beyond loopback, off on loopback, and an explicit choice wins", () => {
  assert.equal(resolveConfig({ host: "0.0.0.0", tokens: TOKENS }).protectObservability, true);
  assert.equal(resolveConfig({ host: "10.1.2.3", tokens: TOKENS }).protectObservability, true);
  assert.equal(resolveConfig({ host: "127.0.0.1" }).protectObservability, false);
  assert.equal(resolveConfig({ host: "::1" }).protectObservability, false);
  assert.equal(resolveConfig({ host: "0.0.0.0", tokens: TOKENS, protectObservability: false }).protectObservability, false);
  assert.equal(resolveConfig({ host: "127.0.0.1", protectObservability: true }).protectObservability, true);
});

test("with protectObservability, /metrics and /status.json need a valid token; health and the page's HTML do not", async () => {
  const s = await startTestServer({
    tokens: [...TOKENS, { tenant: "reader", token: "reader-token-0123456789", access: "read" }],
    protectObservability: true,
  });
  try {
    for (const path of ["/metrics", "/status.json"]) {
      const refused = await s.call("GET", path);
      assert.equal(refused.status, 401, path);
      assert.equal(refused.json.error.code, "LOGBOOK_UNAUTHORIZED");
      assert.equal((await s.call("GET", path, { token: "not-a-token-0123456789" })).status, 401, path);
      assert.equal((await s.call("GET", path, { token: TOKEN })).status, 200, path);
      assert.equal((await s.call("GET", path, { token: "reader-token-0123456789" })).status, 200, `${path}, read-only token`);
    }
    assert.equal((await s.call("GET", "/healthz")).status, 200);
    assert.equal((await s.call("GET", "/readyz")).status, 200);
    const page = await s.call("GET", "/");
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.text, new RegExp(s.dir), "the page's HTML holds no figures, only the script that asks for them");
  } finally {
    await s.stop();
  }
});

test("without protectObservability, /metrics and /status.json answer without a token", async () => {
  const s = await startTestServer({ tokens: TOKENS });
  try {
    assert.equal((await s.call("GET", "/metrics")).status, 200);
    assert.equal((await s.call("GET", "/status.json")).status, 200);
    assert.equal((await s.call("GET", "/v1/kv/a")).status, 401);
  } finally {
    await s.stop();
  }
});
