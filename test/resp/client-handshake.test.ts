import assert from "node:assert/strict";
import { test } from "node:test";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { startRespServer } from "../support/resp.js";

const TOKEN = "t".repeat(16);

test("ioredis 5 connects (CLIENT SETINFO, INFO ready check) and runs GET and SET", async () => {
  const server = await startRespServer();
  const client = new Redis({ host: "127.0.0.1", port: server.respPort, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    assert.equal(client.status, "ready");
    assert.equal(await client.set("k", "v"), "OK");
    assert.equal(await client.get("k"), "v");
    assert.match(await client.info("server"), /^redis_version:7\.0\.15\r$/m);
    assert.match(await client.client("INFO"), / lib-name=ioredis lib-ver=\d/);
  } finally {
    client.disconnect();
    await server.stop();
  }
});

test("ioredis 5 authenticates with a token, with or without the tenant as username", async () => {
  const server = await startRespServer({ tokens: [{ token: TOKEN, tenant: "acme" }] });
  const plain = new Redis({ host: "127.0.0.1", port: server.respPort, password: TOKEN, lazyConnect: true });
  const named = new Redis({ host: "127.0.0.1", port: server.respPort, username: "acme", password: TOKEN, lazyConnect: true });
  try {
    await plain.connect();
    await named.connect();
    assert.equal(await plain.set("shared", "1"), "OK");
    assert.equal(await named.get("shared"), "1");
  } finally {
    plain.disconnect();
    named.disconnect();
    await server.stop();
  }
});

test("node-redis 5 connects over RESP2 (AUTH or HELLO 2 AUTH, CLIENT SETINFO) and runs GET and SET", async () => {
  const server = await startRespServer({ tokens: [{ token: TOKEN, tenant: "acme" }] });
  const plain = createClient({ socket: { host: "127.0.0.1", port: server.respPort, reconnectStrategy: false }, password: TOKEN });
  const hello = createClient({
    socket: { host: "127.0.0.1", port: server.respPort, reconnectStrategy: false },
    password: TOKEN,
    RESP: 2,
    name: "by-hello",
  });
  try {
    await plain.connect();
    await hello.connect();
    assert.equal(await plain.set("k", "v"), "OK");
    assert.equal(await hello.get("k"), "v");
    assert.match(await plain.clientInfo().then((info) => JSON.stringify(info)), /node-redis/);
    assert.equal(await hello.clientGetName(), "by-hello");
  } finally {
    plain.destroy();
    hello.destroy();
    await server.stop();
  }
});
