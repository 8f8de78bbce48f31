/**
 * The server as a user runs it: `logbook serve` in a child process. SIGKILL under concurrent
 * load loses no write that got a 2xx (idempotent retries included); SIGTERM drains, makes
 * the log durable, checkpoints and exits 0; settings come from flags, environment and file.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Store } from "../../src/store/store.js";
import { call } from "../support/server.js";
import { finished, killProcess, runCli, startServerProcess } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

test("SIGKILL under load: after a restart every write that got a 2xx is there, and retries apply once", async () => {
  const { path: dir, cleanup } = await tempDir("logbook-server-kill-");
  const acknowledged = new Map<string, string>();
  /** Idempotent create-only writes that were sent; answered or not, a retry must give 200. */
  const keyed = new Map<string, string>();
  let counterAcks = 0;
  let counterUnanswered = 0;
  const rounds = 6;
  try {
    for (let round = 0; round < rounds; round++) {
      const server = await startServerProcess(["--data-dir", dir, "--checkpoint-every-bytes", "65536"]);
      try {
        // Everything acknowledged in earlier rounds survived the kill.
        const present = new Map<string, unknown>();
        for (let cursor = "", page = 0; page < 1000; page++) {
          const reply = await call(server.url, "GET", `/v1/kv?limit=1000${cursor}`);
          for (const item of reply.json.items) present.set(item.key, item.value);
          if (reply.json.cursor === null) break;
          cursor = `&cursor=${reply.json.cursor}`;
        }
        for (const [key, value] of acknowledged) {
          assert.equal(present.get(key), value, `round ${round}: ${key} was acknowledged and is gone`);
        }
        for (const [idem, key] of keyed) {
          const retry = await call(server.url, "PUT", `/v1/kv/${key}`, {
            json: key,
            headers: { "idempotency-key": idem, "if-none-match": "*" },
          });
          assert.equal(retry.status, 200, `round ${round}: retry of ${idem} got ${retry.status} (applied twice?)`);
          acknowledged.set(key, key);
        }
        keyed.clear();
        const counter = await call(server.url, "GET", "/v1/kv/counter");
        const value = counter.status === 404 ? 0 : (counter.json as number);
        assert.ok(value >= counterAcks && value <= counterAcks + counterUnanswered, `counter ${value} vs ${counterAcks} acks`);
        counterAcks = value;
        counterUnanswered = 0;

        let stop = false;
        const worker = async (id: number) => {
          for (let i = 0; !stop && i < 100_000; i++) {
            const key = `r${round}-w${id}-${i}`;
            try {
              if (i % 5 === 4) {
                const idem = `idem-${key}`;
                keyed.set(idem, key);
                const reply = await call(server.url, "PUT", `/v1/kv/${key}`, {
                  json: key,
                  headers: { "idempotency-key": idem, "if-none-match": "*" },
                });
                if (reply.status === 200) acknowledged.set(key, key);
              } else if (id === 0) {
                const current = await call(server.url, "GET", "/v1/kv/counter");
                const n = current.status === 404 ? 0 : (current.json as number);
                const condition: Record<string, string> =
                  current.status === 404 ? { "if-none-match": "*" } : { "if-match": current.headers.get("etag") as string };
                counterUnanswered++;
                const reply = await call(server.url, "PUT", "/v1/kv/counter", { json: n + 1, headers: condition });
                counterUnanswered--;
                if (reply.status === 200) counterAcks++;
              } else {
                const reply = await call(server.url, "PUT", `/v1/kv/${key}`, { json: `v-${key}` });
                if (reply.status === 200) acknowledged.set(key, `v-${key}`);
              }
            } catch {
              return; // the server is gone
            }
          }
        };
        const workers = Array.from({ length: 12 }, (_, id) => worker(id));
        await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 700));
        await killProcess(server.child, "SIGKILL");
        stop = true;
        await Promise.all(workers);
      } finally {
        await killProcess(server.child, "SIGKILL");
      }
    }
    assert.ok(acknowledged.size > 200, `only ${acknowledged.size} acknowledged writes were checked`);
    process.stdout.write(`# server SIGKILL: ${rounds} rounds, ${acknowledged.size} acknowledged writes checked\n`);
  } finally {
    await cleanup();
  }
});

test("SIGTERM drains, checkpoints and exits 0; the next start replays nothing", async () => {
  const { path: dir, cleanup } = await tempDir("logbook-server-term-");
  try {
    const server = await startServerProcess(["--data-dir", dir]);
    for (let i = 0; i < 20; i++) assert.equal((await call(server.url, "PUT", `/v1/kv/k${i}`, { json: i })).status, 200);
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
    assert.ok(server.logs.some((entry) => entry.msg === "logbook stopped"));
    const db = await Store.open(dir, { readOnly: true });
    try {
      assert.equal(db.stats().keys, 20);
      assert.equal(db.recovery.recordsReplayed, 0, "the checkpoint at shutdown covers everything");
    } finally {
      await db.close();
    }
  } finally {
    await cleanup();
  }
});

test("settings: the environment beats the config file, flags beat both; bad settings exit 2 with a reason", async () => {
  const { path: dir, cleanup } = await tempDir("logbook-server-config-");
  try {
    const configFile = join(dir, "config.json");
    await writeFile(configFile, JSON.stringify({ keyBytesMax: 10, bodyBytesMax: 100 }));
    const server = await startServerProcess(
      ["--data-dir", join(dir, "data"), "--config", configFile, "--body-bytes-max", "200"],
      {
        LOGBOOK_KEY_BYTES_MAX: "20",
      },
    );
    try {
      assert.equal((await call(server.url, "PUT", `/v1/kv/${"k".repeat(15)}`, { json: 1 })).status, 200, "env 20 beats file 10");
      assert.equal((await call(server.url, "PUT", `/v1/kv/${"k".repeat(25)}`, { json: 1 })).status, 414);
      assert.equal((await call(server.url, "PUT", "/v1/kv/b", { json: "x".repeat(150) })).status, 200, "flag 200 beats file 100");
    } finally {
      await killProcess(server.child, "SIGTERM");
    }

    await writeFile(configFile, JSON.stringify({ commitOnEventLoop: "sometimes" }));
    const notBoolean = await finished(runCli(["serve", "--data-dir", join(dir, "data"), "--config", configFile, "--port", "0"]));
    assert.equal(notBoolean.code, 2);
    assert.match(notBoolean.stderr, /commitOnEventLoop/);
    await writeFile(configFile, JSON.stringify({ keyBytesMax: 10, colour: "blue" }));
    const unknown = await finished(runCli(["serve", "--data-dir", join(dir, "data"), "--config", configFile, "--port", "0"]));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown setting colour/);
    const exposed = await finished(runCli(["serve", "--data-dir", join(dir, "data"), "--host", "0.0.0.0", "--port", "0"]));
    assert.equal(exposed.code, 2, "no tokens: loopback only");
    assert.match(exposed.stderr, /only listens on loopback/);
    const weak = await finished(
      runCli(["serve", "--data-dir", join(dir, "data"), "--port", "0"], { LOGBOOK_TOKENS: "acme:short" }),
    );
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /at least 16 characters/);
    const badPort = await finished(runCli(["serve", "--port", "http"]));
    assert.notEqual(badPort.code, 0);
    const help = await finished(runCli(["serve", "--help"]));
    assert.equal(help.code, 0);
    for (const flag of [
      "--data-dir",
      "--port",
      "--host",
      "--tls-cert",
      "--tls-ca",
      "--tokens-file",
      "--in-flight-writes-max",
      "--no-commit-on-event-loop",
      "LOGBOOK_PORT",
    ]) {
      assert.ok(help.stdout.includes(flag), `serve --help mentions ${flag}`);
    }
  } finally {
    await cleanup();
  }
});

test("tokens from a file map to tenants", async () => {
  const { path: dir, cleanup } = await tempDir("logbook-server-tokens-");
  try {
    const tokensFile = join(dir, "tokens.json");
    await writeFile(tokensFile, JSON.stringify({ tokens: [{ token: "file-token-0123456789", tenant: "acme" }] }));
    const server = await startServerProcess(["--data-dir", join(dir, "data"), "--tokens-file", tokensFile]);
    try {
      assert.equal((await call(server.url, "PUT", "/v1/kv/a", { json: 1 })).status, 401);
      assert.equal((await call(server.url, "PUT", "/v1/kv/a", { json: 1, token: "file-token-0123456789" })).status, 200);
      const logged = JSON.stringify(server.logs);
      assert.ok(!logged.includes("file-token-0123456789"), "tokens are never logged");
    } finally {
      await killProcess(server.child, "SIGTERM");
    }
  } finally {
    await cleanup();
  }
});
