/**
 * Shutdown is bounded: SIGTERM drains requests in flight for at most `drainTimeoutMs`, then
 * closes the connections still open (clients that trickle a body in), still checkpoints and
 * exits 0, and every write acknowledged before the signal is there after a restart.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { call } from "../support/server.js";
import { killProcess, startServerProcess } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

const DRAIN_TIMEOUT_MS = 1000;
/** Time past the deadline for the checkpoint, closing the store and the process exiting. */
const EXIT_MARGIN_MS = 5000;
const SLOW_CLIENTS = 3;
const SLOW_BYTE_INTERVAL_MS = 200;
const SLOW_BODY_BYTES = 1000;

/** A client that sends a PUT's headers, then its body one byte every SLOW_BYTE_INTERVAL_MS. */
function slowClient(port: number, key: string): { socket: Socket; closed: Promise<void>; stop: () => void } {
  const socket = connect({ host: "127.0.0.1", port });
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => undefined);
  socket.once("connect", () => {
    socket.write(
      `PUT /v1/kv/${key} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${SLOW_BODY_BYTES}\r\n\r\n"`,
    );
    let sent = 1;
    timer = setInterval(() => {
      if (sent < SLOW_BODY_BYTES - 1 && !socket.destroyed) {
        socket.write("x");
        sent++;
      }
    }, SLOW_BYTE_INTERVAL_MS);
  });
  const stop = () => {
    clearInterval(timer);
    socket.destroy();
  };
  return { socket, closed, stop };
}

test("SIGTERM with clients trickling bodies exits 0 within the drain deadline, checkpointed, losing nothing acknowledged", async () => {
  const { path: dir, cleanup } = await tempDir("logbook-drain-");
  const clients: ReturnType<typeof slowClient>[] = [];
  try {
    const server = await startServerProcess(["--data-dir", dir], { LOGBOOK_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS) });
    try {
      const acknowledged = await call(server.url, "PUT", "/v1/kv/acknowledged", { json: "before the signal" });
      assert.equal(acknowledged.status, 200);
      const port = Number(new URL(server.url).port);
      for (let i = 0; i < SLOW_CLIENTS; i++) clients.push(slowClient(port, `slow-${i}`));
      // Let the requests reach the server and their bodies start to trickle in.
      await sleep(3 * SLOW_BYTE_INTERVAL_MS);
      assert.ok(
        clients.every((client) => !client.socket.destroyed),
        "a slow client was cut off before the signal",
      );

      const signalledMs = performance.now();
      server.child.kill("SIGTERM");
      const timedOut = Symbol("timed out");
      const code = await Promise.race([server.exited, sleep(DRAIN_TIMEOUT_MS + EXIT_MARGIN_MS, timedOut)]);
      const elapsedMs = performance.now() - signalledMs;
      assert.notEqual(code, timedOut, `SIGTERM did not end the server within ${DRAIN_TIMEOUT_MS + EXIT_MARGIN_MS} ms`);
      assert.equal(code, 0);
      assert.ok(elapsedMs >= DRAIN_TIMEOUT_MS * 0.9, `exited after ${Math.round(elapsedMs)} ms, before the drain deadline`);
      await Promise.all(clients.map((client) => client.closed));
      const messages = server.logs.map((entry) => entry.msg);
      assert.ok(
        messages.includes("requests still in flight at the drain deadline: closing their connections"),
        `the deadline was not logged: ${JSON.stringify(messages)}`,
      );
      assert.ok(messages.includes("checkpoint written"), `no checkpoint at exit: ${JSON.stringify(messages)}`);
      assert.ok(messages.includes("logbook stopped"));
    } finally {
      for (const client of clients) client.stop();
      await killProcess(server.child);
    }

    const restarted = await startServerProcess(["--data-dir", dir]);
    try {
      const reply = await call(restarted.url, "GET", "/v1/kv/acknowledged");
      assert.equal(reply.status, 200);
      assert.equal(reply.json, "before the signal");
      for (let i = 0; i < SLOW_CLIENTS; i++) {
        assert.equal((await call(restarted.url, "GET", `/v1/kv/slow-${i}`)).status, 404, "a body never completed was stored");
      }
    } finally {
      await killProcess(restarted.child);
    }
  } finally {
    for (const client of clients) client.stop();
    await cleanup();
  }
});
