/**
 * `logbook serve` refuses bad startup settings the way every command refuses bad input: one
 * line `logbook: <message> [<code>]` on stderr, no stack trace, exit code 2, and nothing
 * written to the data directory. Runs the built CLI (npm run build).
 */
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type Certificates, makeCertificates } from "../support/certificates.js";
import { finished, runCli } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

const STARTUP_WAIT_MS = 15_000;

let dir: string;
let certs: Certificates;
let cleanup: () => Promise<void>;

before(async () => {
  const temp = await tempDir("logbook-serve-errors-");
  dir = temp.path;
  cleanup = temp.cleanup;
  certs = makeCertificates(dir);
  writeFileSync(join(dir, "junk.pem"), "this is not a certificate\n");
});
after(() => cleanup());

async function serve(args: string[]): Promise<{ code: number | null; stderr: string; dataDir: string }> {
  const dataDir = join(dir, `data-${Math.random().toString(36).slice(2)}`);
  const child = runCli(["serve", "--data-dir", dataDir, "--host", "127.0.0.1", "--port", "0", ...args]);
  // A server that accepted the settings would serve until stopped: it is stopped, and fails the test.
  const timer = setTimeout(() => child.kill("SIGKILL"), STARTUP_WAIT_MS);
  try {
    const run = await finished(child);
    return { code: run.code, stderr: run.stderr, dataDir };
  } finally {
    clearTimeout(timer);
  }
}

function assertRefused(run: { code: number | null; stderr: string }, code: string, message: RegExp): void {
  assert.equal(run.code, 2, `exit code; stderr: ${run.stderr}`);
  assert.match(run.stderr, new RegExp(`^logbook: .+ \\[${code}\\]\\n$`), "one line: logbook: <message> [<code>]");
  assert.match(run.stderr, message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
}

test("a TLS key that does not belong to the certificate exits 2 with LOGBOOK_INVALID_OPTION", async () => {
  const run = await serve(["--tls-cert", certs.serverCert, "--tls-key", certs.clientKey]);
  assertRefused(run, "LOGBOOK_INVALID_OPTION", /TLS/);
  assert.equal(existsSync(run.dataDir), false, "nothing is created before the settings are checked");
});

test("a junk TLS certificate exits 2 with LOGBOOK_INVALID_OPTION", async () => {
  const run = await serve(["--tls-cert", join(dir, "junk.pem"), "--tls-key", certs.serverKey]);
  assertRefused(run, "LOGBOOK_INVALID_OPTION", /junk\.pem/);
});

test("a junk --tls-ca is refused at startup with LOGBOOK_INVALID_OPTION, not after it refused every client", async () => {
  const run = await serve(["--tls-cert", certs.serverCert, "--tls-key", certs.serverKey, "--tls-ca", join(dir, "junk.pem")]);
  assertRefused(run, "LOGBOOK_INVALID_OPTION", /junk\.pem/);
});

test("a port in use exits 2 with LOGBOOK_ADDRESS_IN_USE naming the address", async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
  const port = (holder.address() as { port: number }).port;
  try {
    const run = await serve(["--port", String(port)]);
    assertRefused(run, "LOGBOOK_ADDRESS_IN_USE", new RegExp(`127\\.0\\.0\\.1:${port}`));
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
  }
});
