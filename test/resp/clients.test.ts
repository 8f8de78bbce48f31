/**
 * Real Redis clients, unchanged, against the Redis endpoint: ioredis 5, node-redis 5 and
 * redis-cli (one-shot and --pipe). A test that needs a command the endpoint does not know yet
 * is marked todo (probed once at load: an unknown command gets Redis's "unknown command"
 * error), so it turns into a plain test by itself once the command lands.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { test } from "node:test";
import { Redis, type RedisOptions } from "ioredis";
import { createClient } from "redis";
import type { ConfigInput } from "../../src/server/config.js";
import { RawClient, RespReplyError, type RespTestServer, startRespServer } from "../support/resp.js";

/** Commands some tests need, asked of the endpoint once: the ones it answers with "unknown command". */
async function unknownCommands(names: readonly string[]): Promise<Set<string>> {
  const server = await startRespServer();
  const client = await RawClient.connect(server.respPort);
  try {
    const unknown = new Set<string>();
    for (const name of names) {
      // No arguments: a known command refuses the arity (or answers, for INFO) and changes nothing.
      const reply = await client.call(name);
      if (reply instanceof RespReplyError && reply.message.startsWith("ERR unknown command")) unknown.add(name);
    }
    return unknown;
  } finally {
    client.close();
    await server.stop();
  }
}

const unknown = await unknownCommands(["INFO", "INCR", "INCRBY", "XADD", "XRANGE"]);
/** A todo reason while any of `names` is unknown to the endpoint; false once all are known. */
function todoUnless(...names: string[]): string | false {
  const missing = names.filter((name) => unknown.has(name));
  return missing.length === 0 ? false : `the endpoint does not know ${missing.join(", ")} yet`;
}

const haveRedisCli = spawnSync("sh", ["-c", "command -v redis-cli"]).status === 0;
const noRedisCli = haveRedisCli ? false : "needs redis-cli (apt-get install redis-tools)";

async function withServer(run: (server: RespTestServer) => Promise<void>, config: ConfigInput = {}): Promise<void> {
  const server = await startRespServer(config);
  try {
    await run(server);
  } finally {
    await server.stop();
  }
}

/**
 * ioredis as an application would make it, except that it gives up instead of reconnecting
 * (a failing test ends), and skips its INFO ready check while the endpoint lacks INFO.
 */
function ioredis(port: number, extra: RedisOptions = {}): Redis {
  return new Redis({
    host: "127.0.0.1",
    port,
    lazyConnect: true,
    connectTimeout: 5_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: !unknown.has("INFO"),
    ...extra,
  });
}

function nodeRedis(port: number) {
  return createClient({ socket: { host: "127.0.0.1", port, reconnectStrategy: false, connectTimeout: 5_000 } });
}

test("ioredis 5 sets and gets (binary too), pipelines, and runs MULTI/EXEC and WATCH", async () => {
  await withServer(async (server) => {
    const client = ioredis(server.respPort);
    const other = ioredis(server.respPort);
    try {
      await client.connect();
      await other.connect();
      assert.equal(await client.ping(), "PONG");
      assert.equal(await client.set("greeting", "hé there"), "OK");
      assert.equal(await client.get("greeting"), "hé there");
      assert.equal(await client.get("absent"), null);
      const binary = Buffer.from([0, 255, 13, 10, 128, 1]);
      await client.set(Buffer.from([1, 254]), binary);
      assert.deepEqual(await client.getBuffer(Buffer.from([1, 254])), binary);
      const replies = await client.pipeline().set("p1", "a").set("p2", "b").get("p1").get("p2").exec();
      assert.deepEqual(replies, [
        [null, "OK"],
        [null, "OK"],
        [null, "a"],
        [null, "b"],
      ]);
      assert.deepEqual(await client.multi().set("m", "1").get("m").exec(), [
        [null, "OK"],
        [null, "1"],
      ]);
      await client.watch("w");
      await other.set("w", "theirs");
      assert.equal(await client.multi().set("w", "mine").exec(), null, "EXEC aborts: a watched key changed");
      assert.equal(await client.get("w"), "theirs");
    } finally {
      client.disconnect();
      other.disconnect();
    }
  });
});

test("ioredis 5 with its default ready check (INFO) connects", { todo: todoUnless("INFO") }, async () => {
  await withServer(async (server) => {
    const client = ioredis(server.respPort, { enableReadyCheck: true });
    try {
      await client.connect();
      assert.equal(client.status, "ready");
      assert.equal(await client.ping(), "PONG");
    } finally {
      client.disconnect();
    }
  });
});

test("ioredis 5 counts with INCR and INCRBY, pipelined and in MULTI", { todo: todoUnless("INCR", "INCRBY") }, async () => {
  await withServer(async (server) => {
    const client = ioredis(server.respPort);
    try {
      await client.connect();
      assert.equal(await client.incr("n"), 1);
      assert.equal(await client.incrby("n", 41), 42);
      const piped = await client.pipeline().incr("n").incr("n").get("n").exec();
      assert.deepEqual(piped, [
        [null, 43],
        [null, 44],
        [null, "44"],
      ]);
      assert.deepEqual(await client.multi().incr("n").incrby("n", -4).exec(), [
        [null, 45],
        [null, 41],
      ]);
    } finally {
      client.disconnect();
    }
  });
});

test("ioredis 5 adds to a stream and reads it back with XRANGE", { todo: todoUnless("XADD", "XRANGE") }, async () => {
  await withServer(async (server) => {
    const client = ioredis(server.respPort);
    try {
      await client.connect();
      const first = await client.xadd("events", "*", "kind", "signup", "user", "ada");
      const second = await client.xadd("events", "*", "kind", "login");
      assert.match(String(first), /^\d+-\d+$/);
      assert.deepEqual(await client.xrange("events", "-", "+"), [
        [first, ["kind", "signup", "user", "ada"]],
        [second, ["kind", "login"]],
      ]);
    } finally {
      client.disconnect();
    }
  });
});

test("node-redis 5 connects, sets and gets, pipelines, and runs MULTI/EXEC", async () => {
  await withServer(async (server) => {
    const client = nodeRedis(server.respPort);
    client.on("error", () => undefined);
    try {
      await client.connect();
      assert.equal(await client.ping(), "PONG");
      assert.equal(await client.set("greeting", "hé there"), "OK");
      assert.equal(await client.get("greeting"), "hé there");
      assert.equal(await client.get("absent"), null);
      // Commands issued in one tick go out as one pipeline.
      const piped = await Promise.all([client.set("p1", "a"), client.set("p2", "b"), client.get("p1"), client.get("p2")]);
      assert.deepEqual(piped, ["OK", "OK", "a", "b"]);
      assert.deepEqual(await client.multi().set("m", "1").get("m").exec(), ["OK", "1"]);
      assert.deepEqual(await client.multi().set("q", "2").get("q").execAsPipeline(), ["OK", "2"]);
    } finally {
      client.destroy();
    }
  });
});

test("node-redis 5 counts with INCR and INCRBY, in MULTI too", { todo: todoUnless("INCR", "INCRBY") }, async () => {
  await withServer(async (server) => {
    const client = nodeRedis(server.respPort);
    client.on("error", () => undefined);
    try {
      await client.connect();
      assert.equal(await client.incr("n"), 1);
      assert.equal(await client.incrBy("n", 41), 42);
      assert.deepEqual(await client.multi().incr("n").incrBy("n", -2).get("n").exec(), [43, 41, "41"]);
    } finally {
      client.destroy();
    }
  });
});

test("node-redis 5 adds to a stream and reads it back with XRANGE", { todo: todoUnless("XADD", "XRANGE") }, async () => {
  await withServer(async (server) => {
    const client = nodeRedis(server.respPort);
    client.on("error", () => undefined);
    try {
      await client.connect();
      const id = await client.xAdd("events", "*", { kind: "signup", user: "ada" });
      assert.match(id, /^\d+-\d+$/);
      assert.deepEqual(
        (await client.xRange("events", "-", "+")).map((entry) => ({ id: entry.id, message: { ...entry.message } })),
        [{ id, message: { kind: "signup", user: "ada" } }],
      );
    } finally {
      client.destroy();
    }
  });
});

/** Runs redis-cli against the in-process server without blocking its event loop; killed past a deadline. */
function redisCli(port: number, args: string[], input?: string): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    const deadline = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(deadline);
      resolve({ status, out });
    });
    child.stdin.end(input ?? "");
  });
}

test("redis-cli one-shot: SET, GET, and an unknown command's error", { skip: noRedisCli }, async () => {
  await withServer(async (server) => {
    assert.deepEqual(await redisCli(server.respPort, ["SET", "k", "v"]), { status: 0, out: "OK\n" });
    assert.deepEqual(await redisCli(server.respPort, ["GET", "k"]), { status: 0, out: "v\n" });
    assert.deepEqual(await redisCli(server.respPort, ["GET", "absent"]), { status: 0, out: "\n" });
    const unknownReply = await redisCli(server.respPort, ["NOSUCH", "a"]);
    assert.match(unknownReply.out, /^ERR unknown command 'NOSUCH', with args beginning with: 'a' /);
  });
});

/** Commands in RESP's multibulk form, as `redis-cli --pipe` expects them on stdin. */
function encode(commands: string[][]): string {
  return commands
    .map((args) => `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join("")}`)
    .join("");
}

test("redis-cli --pipe: a few thousand SETs, every one answered, none an error", { skip: noRedisCli }, async () => {
  const count = 5_000;
  const commands = Array.from({ length: count }, (_, i) => ["SET", `mass:${i}`, `value-${i}-${"x".repeat(i % 50)}`]);
  await withServer(async (server) => {
    const run = await redisCli(server.respPort, ["--pipe"], encode(commands));
    assert.equal(run.status, 0, run.out);
    assert.match(run.out, new RegExp(`errors: 0, replies: ${count}\\b`));
    const client = await RawClient.connect(server.respPort);
    try {
      for (const i of [0, 1, 2_500, count - 1])
        assert.equal(await client.call("GET", `mass:${i}`), `value-${i}-${"x".repeat(i % 50)}`);
    } finally {
      client.close();
    }
  });
});

test("redis-cli --pipe: a pipeline of more writes than the server lets be in flight is read more slowly, not refused", {
  skip: noRedisCli,
}, async () => {
  const inFlightWritesMax = 256;
  const count = 5_000;
  const commands = Array.from({ length: count }, (_, i) => ["SET", `mass:${i}`, "x".repeat(100)]);
  await withServer(
    async (server) => {
      const run = await redisCli(server.respPort, ["--pipe"], encode(commands));
      assert.equal(run.status, 0, run.out.slice(0, 500));
      assert.match(run.out, new RegExp(`errors: 0, replies: ${count}\\b`));
    },
    { inFlightWritesMax },
  );
});
