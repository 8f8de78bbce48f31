/**
 * The Redis endpoint's limits: each refusal is a clear error reply or a closed connection, is
 * counted in /metrics, and leaves the server serving; what a client can make the server hold
 * stays bounded whether it floods commands or stops reading replies.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { GatedDisk } from "../support/gated-disk.js";
import { encodeCommand, RawClient, RespReplyError, type RespTestServer, startRespServer } from "../support/resp.js";

async function refusals(s: RespTestServer, reason: string): Promise<number> {
  const text = (await s.call("GET", "/metrics")).text;
  const match = new RegExp(`^logbook_resp_refusals_total\\{reason="${reason}"\\} (\\S+)$`, "m").exec(text);
  return Number(match?.[1]);
}

async function assertServing(s: RespTestServer): Promise<void> {
  const c = await RawClient.connect(s.respPort);
  try {
    assert.equal(await c.call("PING"), "PONG");
  } finally {
    c.close();
  }
}

async function withServer(
  config: Parameters<typeof startRespServer>[0],
  body: (s: RespTestServer) => Promise<void>,
  options: Parameters<typeof startRespServer>[1] = {},
) {
  const s = await startRespServer(config, options);
  try {
    await body(s);
    await assertServing(s);
  } finally {
    await s.stop();
  }
}

describe("request limits", () => {
  test("a bulk longer than respBulkBytesMax, too many arguments, or a too long inline line: an error, then close", async () => {
    await withServer({ respBulkBytesMax: 1000, respMultibulkCountMax: 10, respInlineBytesMax: 100 }, async (s) => {
      const cases: [string | Buffer, string][] = [
        [encodeCommand(["SET", "k", "x".repeat(1001)]), "ERR Protocol error: invalid bulk length"],
        [encodeCommand(["MSET", ...Array.from({ length: 10 }, () => "a")]), "ERR Protocol error: invalid multibulk length"],
        [`ECHO ${"x".repeat(100)}\r\n`, "ERR Protocol error: too big inline request"],
        ["x".repeat(200), "ERR Protocol error: too big inline request"],
        [`ECHO ${Array.from({ length: 11 }, () => "a").join(" ")}\r\n`, "ERR Protocol error: invalid multibulk length"],
      ];
      for (const [bytes, error] of cases) {
        const c = await RawClient.connect(s.respPort);
        assert.equal(await c.call("SET", "before", "1"), "OK");
        c.send(bytes);
        assert.deepEqual(await c.next(), new RespReplyError(error));
        await c.closed;
      }
      assert.equal(await refusals(s, "protocol_error"), cases.length);
      const c = await RawClient.connect(s.respPort);
      assert.equal(await c.call("SET", "k", "x".repeat(1000)), "OK", "exactly the limit is fine");
      assert.equal(await c.call("GET", "before"), "1");
      c.close();
    });
  });

  test("the commands before a protocol error are run and answered first", async () => {
    await withServer({}, async (s) => {
      const c = await RawClient.connect(s.respPort);
      c.send(Buffer.concat([encodeCommand(["SET", "a", "1"]), encodeCommand(["GET", "a"]), Buffer.from("*1\r\n$-2\r\n")]));
      assert.equal(await c.next(), "OK");
      assert.equal(await c.next(), "1");
      assert.deepEqual(await c.next(), new RespReplyError("ERR Protocol error: invalid bulk length"));
      await c.closed;
    });
  });
});

test("after a protocol error the server reads and drops what the client still sends: no reset loses its replies", async () => {
  await withServer({}, async (s) => {
    // Half-open allowed: this client goes on sending after the server's FIN, as a slow pipeliner would.
    const socket = connect({ host: "127.0.0.1", port: s.respPort, allowHalfOpen: true });
    await once(socket, "connect");
    let received = "";
    let reset: Error | undefined;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    socket.on("error", (error) => {
      reset = error;
    });
    socket.write("PING\r\n*1\r\n$-2\r\n");
    await once(socket, "end");
    assert.equal(received, "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
    for (let i = 0; i < 5 && reset === undefined; i++) {
      socket.write("more bytes after the error\r\n");
      await sleep(20);
    }
    assert.equal(reset, undefined, "the client saw no reset");
    socket.end();
    await once(socket, "close");
  });
});

describe("transactions", () => {
  test("commands queued in MULTI are bounded in bytes by respPipelineBytesMax; past it EXEC aborts", async () => {
    await withServer({ respPipelineBytesMax: 64 * 1024 }, async (s) => {
      const c = await RawClient.connect(s.respPort);
      const value = "q".repeat(20 * 1024);
      const replies = await c.pipeline([
        ["MULTI"],
        ["SET", "a", value],
        ["SET", "b", value],
        ["SET", "c", value],
        ["SET", "d", value],
        ["EXEC"],
      ]);
      assert.deepEqual(replies.slice(0, 4), ["OK", "QUEUED", "QUEUED", "QUEUED"]);
      assert.deepEqual(replies[4], new RespReplyError("ERR a transaction holds at most 65536 bytes of commands"));
      assert.ok(replies[5] instanceof RespReplyError && replies[5].message.startsWith("EXECABORT"));
      assert.equal(await c.call("GET", "a"), null);
      // A new transaction starts from zero.
      assert.deepEqual(await c.pipeline([["MULTI"], ["SET", "a", value], ["EXEC"]]), ["OK", "QUEUED", ["OK"]]);
      c.close();
    });
  });
});

describe("client count", () => {
  test("past respClientsMax the next client gets an error and is closed; a freed place is taken again", async () => {
    await withServer({ respClientsMax: 3 }, async (s) => {
      const clients = await Promise.all([1, 2, 3].map(() => RawClient.connect(s.respPort)));
      for (const c of clients) assert.equal(await c.call("PING"), "PONG");
      const extra = await RawClient.connect(s.respPort);
      assert.deepEqual(await extra.next(), new RespReplyError("ERR max number of clients reached"));
      await extra.closed;
      // A refused client that never reads nor closes is dropped anyway.
      const silent = await RawClient.connect(s.respPort);
      silent.send("PING\r\n".repeat(1000));
      await silent.closed;
      assert.equal(await refusals(s, "clients_max"), 2);
      clients[0]?.close();
      await clients[0]?.closed;
      await sleep(50);
      const again = await RawClient.connect(s.respPort);
      assert.equal(await again.call("PING"), "PONG");
      again.close();
      for (const c of [again, ...clients]) {
        c.close();
        await c.closed;
      }
      await sleep(50);
    });
  });
});

describe("output and pipeline bounds", () => {
  test("a client pipelining GETs of a large value without reading is disconnected past respOutputBytesMax", async () => {
    await withServer({ respOutputBytesMax: 4 * 1024 * 1024 }, async (s) => {
      const c = await RawClient.connect(s.respPort);
      assert.equal(await c.call("SET", "big", "x".repeat(1024 * 1024)), "OK");
      c.socket.pause();
      c.send(Buffer.concat(Array.from({ length: 200 }, () => encodeCommand(["GET", "big"]))));
      await c.closed;
      assert.equal(await refusals(s, "output_buffer"), 1);
      assert.ok((s.server.resp?.bufferedBytes() ?? 0) < 1024 * 1024, "nothing is held for the closed client");
    });
  });

  test("a client sending a huge pipeline without reading is paused: what the server holds stays bounded", async () => {
    const pipelineBytesMax = 1024 * 1024;
    await withServer({ respPipelineBytesMax: pipelineBytesMax }, async (s) => {
      const c = await RawClient.connect(s.respPort);
      const value = "v".repeat(1024);
      assert.equal(await c.call("SET", "k", value), "OK");
      c.socket.pause();
      const count = 60_000; // 60 MB of replies for 420 KB of requests
      c.send("GET k\r\n".repeat(count));
      let held = 0;
      for (let i = 0; i < 20; i++) {
        await sleep(25);
        held = Math.max(held, s.server.resp?.bufferedBytes() ?? 0);
      }
      // Paused past pipelineBytesMax of unwritten replies; the replies to one read of input (64 KiB of
      // 7-byte GETs: 9,362 replies of 1 KiB) may come on top. Far less than the 60 MB asked for.
      assert.ok(held < pipelineBytesMax + 11 * 1024 * 1024, `${held} bytes held`);
      assert.ok(!c.isClosed, "a paused client is not disconnected");
      c.socket.resume();
      const replies = await Promise.all(Array.from({ length: count }, () => c.next()));
      assert.ok(replies.every((reply) => reply === value));
      assert.equal(await c.call("PING"), "PONG");
      c.close();
    });
  });

  test("pipelined writes past respPipelineBytesMax pause reading until they are durable; all are answered", async () => {
    const pipelineBytesMax = 512 * 1024;
    await withServer({ respPipelineBytesMax: pipelineBytesMax }, async (s) => {
      const c = await RawClient.connect(s.respPort);
      const value = "w".repeat(100 * 1024);
      const count = 300; // 30 MB of SETs in one go
      let held = 0;
      const sampler = setInterval(() => {
        held = Math.max(held, s.server.resp?.bufferedBytes() ?? 0);
      }, 2);
      const replies = await c.pipeline(Array.from({ length: count }, (_, i) => ["SET", `w${i}`, value]));
      clearInterval(sampler);
      assert.ok(replies.every((reply) => reply === "OK"));
      assert.ok(held < 4 * pipelineBytesMax, `${held} bytes held`);
      assert.equal(await c.call("GET", `w${count - 1}`), value);
      c.close();
    });
  });
});

describe("backpressure", () => {
  test("a connection pipelining more writes than the in-flight bound is read more slowly, not refused", async () => {
    await withServer({ inFlightWritesMax: 4 }, async (s) => {
      const c = await RawClient.connect(s.respPort);
      const replies = await c.pipeline(Array.from({ length: 300 }, (_, i) => ["SET", `p${i}`, String(i)]));
      assert.ok(replies.every((reply) => reply === "OK"));
      assert.equal(await refusals(s, "overloaded"), 0);
      assert.equal(await c.call("GET", "p299"), "299");
      c.close();
    });
  });

  test("a write with none of its connection's in flight, past a full bound, gets -TRYAGAIN; a retry succeeds", async () => {
    const disk = new GatedDisk();
    await withServer(
      { inFlightWritesMax: 2 },
      async (s) => {
        const a = await RawClient.connect(s.respPort);
        const b = await RawClient.connect(s.respPort);
        assert.equal(await a.call("PING"), "PONG");
        disk.syncs.hold();
        const held = a.pipeline(Array.from({ length: 5 }, (_, i) => ["SET", `held${i}`, String(i)]));
        for (
          let waited = 0;
          (await s.call("GET", "/metrics")).text.match(/^logbook_http_writes_in_flight 2$/m) === null;
          waited++
        ) {
          assert.ok(waited < 200, "the bound fills");
          await sleep(10);
        }
        assert.deepEqual(
          await b.call("SET", "other", "1"),
          new RespReplyError("TRYAGAIN too many writes in flight; retry later"),
        );
        assert.equal(await refusals(s, "overloaded"), 1);
        disk.syncs.release();
        assert.deepEqual(await held, ["OK", "OK", "OK", "OK", "OK"]);
        assert.equal(await b.call("SET", "other", "1"), "OK");
        assert.equal(await b.call("GET", "held4"), "4");
        a.close();
        b.close();
      },
      { fileSystem: disk.fileSystem },
    );
  });
});

describe("idle timeout", () => {
  test("with respIdleTimeoutMs a silent client is closed; a talking one is not", async () => {
    await withServer({ respIdleTimeoutMs: 300 }, async (s) => {
      const silent = await RawClient.connect(s.respPort);
      const talking = await RawClient.connect(s.respPort);
      const started = Date.now();
      for (let i = 0; i < 8; i++) {
        await sleep(100);
        assert.equal(await talking.call("PING"), "PONG");
      }
      await silent.closed;
      assert.ok(Date.now() - started >= 250);
      assert.ok(!talking.isClosed);
      assert.equal(await refusals(s, "idle_timeout"), 1);
      talking.close();
    });
  });

  test("by default (0) a silent client stays connected", async () => {
    await withServer({}, async (s) => {
      const silent = await RawClient.connect(s.respPort);
      await sleep(600);
      assert.ok(!silent.isClosed);
      assert.equal(await silent.call("PING"), "PONG");
      silent.close();
    });
  });
});
