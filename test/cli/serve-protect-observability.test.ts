/**
 * `logbook serve` takes the observability protection from --[no-]protect-observability, then
 * LOGBOOK_PROTECT_OBSERVABILITY, then the default (on unless the host is loopback).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { finished, killProcess, runCli, startServerProcess } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

const TOKEN = "acme-token-0123456789";

async function metricsStatus(flags: string[], env: Record<string, string>): Promise<{ open: number; withToken: number }> {
  const temp = await tempDir();
  const server = await startServerProcess(["--data-dir", temp.path, ...flags], { LOGBOOK_TOKENS: `acme:${TOKEN}`, ...env });
  try {
    const open = (await fetch(`${server.url}/metrics`)).status;
    const withToken = (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status;
    return { open, withToken };
  } finally {
    await killProcess(server.child, "SIGTERM");
    await temp.cleanup();
  }
}

test("LOGBOOK_PROTECT_OBSERVABILITY=true makes /metrics need a token on loopback", async () => {
  assert.deepEqual(await metricsStatus([], { LOGBOOK_PROTECT_OBSERVABILITY: "true" }), { open: 401, withToken: 200 });
});

test("--protect-observability makes /metrics need a token; --no-protect-observability wins over the environment", async () => {
  assert.deepEqual(await metricsStatus(["--protect-observability"], {}), { open: 401, withToken: 200 });
  assert.deepEqual(await metricsStatus(["--no-protect-observability"], { LOGBOOK_PROTECT_OBSERVABILITY: "1" }), {
    open: 200,
    withToken: 200,
  });
});

test("a LOGBOOK_PROTECT_OBSERVABILITY that is no boolean is refused, naming the setting", async () => {
  const temp = await tempDir();
  try {
    const child = runCli(["serve", "--data-dir", temp.path, "--port", "0"], { LOGBOOK_PROTECT_OBSERVABILITY: "maybe" });
    const result = await finished(child);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /protectObservability/);
  } finally {
    await temp.cleanup();
  }
});
