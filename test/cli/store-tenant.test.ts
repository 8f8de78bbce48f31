/**
 * The store CLI speaks the server's key space: a key written over HTTP is the key the CLI
 * names, per tenant, and the server's internal records stay out of sight unless --raw.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestServer } from "../support/server.js";
import { tempDir } from "../support/temp.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const TOKENS = [
  { tenant: "acme", token: "acme-token-0123456789" },
  { tenant: "globex", token: "globex-token-0123456789" },
];

describe("logbook store CLI on a server's data directory", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("a key PUT over HTTP is found by `store get DIR KEY` under the default tenant", async () => {
    const s = await startTestServer({}, { dir });
    try {
      const put = await s.call("PUT", "/v1/kv/x", { json: "v", headers: { "idempotency-key": '"r1"' } });
      assert.equal(put.status, 200);
    } finally {
      await s.stop();
    }
    const got = run("store", "get", dir, "x");
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.stdout, '"v"\t(version 1)\n');
    assert.equal(run("store", "scan", dir).stdout, 'x\t"v"\t1\n', "scan hides the idempotency record");
    const raw = run("store", "scan", dir, "--raw").stdout.split("\n").filter(Boolean);
    assert.equal(raw.length, 2);
    assert.match(raw[0] as string, /^i\/default\/r1\t/);
    assert.equal(raw[1], 'k/default/x\t"v"\t1');
    assert.equal(run("store", "get", dir, "k/default/x", "--raw").stdout, '"v"\t(version 1)\n');
  });

  test("--tenant selects one tenant's keys; put, get, delete and scan stay inside it", async () => {
    const s = await startTestServer({ tokens: TOKENS }, { dir });
    try {
      await s.call("PUT", "/v1/kv/a", { json: 1, token: "acme-token-0123456789" });
      await s.call("PUT", "/v1/kv/ab", { json: 2, token: "acme-token-0123456789" });
      await s.call("PUT", "/v1/kv/a", { json: 3, token: "globex-token-0123456789" });
    } finally {
      await s.stop();
    }
    assert.equal(run("store", "scan", dir, "--tenant", "acme").stdout, "a\t1\t1\nab\t2\t2\n");
    assert.equal(run("store", "scan", dir, "--tenant", "acme", "--gte", "ab").stdout, "ab\t2\t2\n");
    assert.equal(run("store", "scan", dir, "--tenant", "acme", "--lt", "ab").stdout, "a\t1\t1\n");
    assert.equal(
      run("store", "scan", dir, "--tenant", "globex", "--prefix", "a", "--json").stdout,
      '{"key":"a","value":3,"version":3}\n',
    );
    assert.equal(run("store", "scan", dir).stdout, "", "the default tenant has no keys");
    assert.equal(run("store", "put", dir, "c", "4", "--tenant", "globex").stdout, "4\n");
    assert.equal(run("store", "scan", dir, "--raw", "--prefix", "k/globex/c").stdout, "k/globex/c\t4\t4\n");
    assert.equal(run("store", "delete", dir, "c", "--tenant", "globex").code, 0);
    assert.equal(run("store", "get", dir, "c", "--tenant", "globex").code, 1);
    const bad = run("store", "get", dir, "a", "--tenant", "a/b");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /LOGBOOK_INVALID_ARGUMENT/);
  });
});

test("logbook --version prints package.json's version", () => {
  const result = run("--version");
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, `${PACKAGE.version}\n`);
});
