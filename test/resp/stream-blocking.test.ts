import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { OPEN_TENANT } from "../../src/server/auth.js";
import { dataPrefix } from "../../src/server/namespace.js";
import { RawClient, RespReplyError, type RespTestServer, type RespValue, startRespServer } from "../support/resp.js";

async function withServer(fn: (server: RespTestServer) => Promise<void>, config = {}): Promise<void> {
  const server = await startRespServer(config);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

function blockedClients(server: RespTestServer): number {
  return server.server.resp?.blockedClients() ?? -1;
}

/** As Redis's tests' wait_for_blocked_clients_count: until `count` clients wait. */
async function waitForBlocked(server: RespTestServer, count: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (blockedClients(server) === count) return;
    await sleep(10);
  }
  assert.fail(`expected ${count} blocked clients, have ${blockedClients(server)}`);
}

function settledSoon(reply: Promise<RespValue>, ms: number): Promise<RespValue | "pending"> {
  return Promise.race([reply, sleep(ms).then(() => "pending" as const)]);
}

test("XREAD BLOCK waits for an XADD from another client, and is counted as blocked meanwhile", async () => {
  await withServer(async (server) => {
    const reader = await RawClient.connect(server.respPort);
    const writer = await RawClient.connect(server.respPort);
    try {
      await writer.call("XADD", "s2", "1", "old", "x");
      const read = reader.call("XREAD", "BLOCK", "20000", "STREAMS", "s1", "s2", "s3", "$", "$", "$");
      await waitForBlocked(server, 1);
      assert.equal(await settledSoon(read, 50), "pending");
      assert.equal(await writer.call("XADD", "s2", "2", "new", "y"), "2-0");
      assert.deepEqual(await read, [["s2", [["2-0", ["new", "y"]]]]]);
      assert.equal(blockedClients(server), 0);
      // An ID already behind the stream's end is served at once, without blocking.
      assert.deepEqual(await reader.call("XREAD", "BLOCK", "0", "STREAMS", "s1", "s2", "$", "0-0"), [
        [
          "s2",
          [
            ["1-0", ["old", "x"]],
            ["2-0", ["new", "y"]],
          ],
        ],
      ]);
      // The same key named three times: a wake-up answers it.
      const thrice = reader.call("XREAD", "BLOCK", "20000", "STREAMS", "s2", "s2", "s2", "$", "$", "$");
      await waitForBlocked(server, 1);
      await writer.call("XADD", "s2", "3", "f", "v");
      const reply = (await thrice) as RespValue[][];
      assert.equal(reply[0]?.[0], "s2");
      assert.deepEqual(((reply[0] as RespValue[])[1] as RespValue[])[0], ["3-0", ["f", "v"]]);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

test("XREAD BLOCK times out with nil, and BLOCK 0 waits without a time limit", async () => {
  await withServer(async (server) => {
    const reader = await RawClient.connect(server.respPort);
    const writer = await RawClient.connect(server.respPort);
    try {
      const started = Date.now();
      assert.equal(await reader.call("XREAD", "BLOCK", "100", "STREAMS", "t", "$"), null);
      assert.ok(Date.now() - started >= 90);
      assert.equal(blockedClients(server), 0);
      // An entry added and deleted leaves nothing to return: still a timeout, not an empty array.
      await writer.call("XADD", "t", "666", "f", "v");
      await writer.call("XADD", "t", "667", "f", "v");
      await writer.call("XDEL", "t", "667");
      assert.equal(await reader.call("XREAD", "BLOCK", "10", "STREAMS", "t", "666"), null);
      const forever = reader.call("XREAD", "BLOCK", "0", "STREAMS", "t", "665");
      assert.deepEqual(await forever, [["t", [["666-0", ["f", "v"]]]]]);
      const waiting = reader.call("XREAD", "BLOCK", "0", "STREAMS", "t", "$");
      await waitForBlocked(server, 1);
      assert.equal(await settledSoon(waiting, 300), "pending");
      // The commands a blocked client sends meanwhile wait behind it, as in Redis.
      const ping = reader.call("PING");
      assert.equal(await settledSoon(ping, 50), "pending");
      await writer.call("XADD", "t", "700", "late", "1");
      assert.deepEqual(await waiting, [["t", [["700-0", ["late", "1"]]]]]);
      assert.equal(await ping, "PONG");
    } finally {
      reader.close();
      writer.close();
    }
  });
});

test("a blocked client that disconnects stops waiting: nothing is left behind", async () => {
  await withServer(async (server) => {
    const store = server.server.store;
    const reader = await RawClient.connect(server.respPort);
    const groupReader = await RawClient.connect(server.respPort);
    const writer = await RawClient.connect(server.respPort);
    try {
      await writer.call("XGROUP", "CREATE", "d", "g", "$", "MKSTREAM");
      void reader.call("XREAD", "BLOCK", "0", "STREAMS", "d", "$");
      void groupReader.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "d", ">");
      await waitForBlocked(server, 2);
      assert.equal(store.streams.blockedReaders, 2);
      reader.close();
      groupReader.close();
      await waitForBlocked(server, 0);
      for (let i = 0; i < 100 && store.streams.blockedReaders > 0; i++) await sleep(10);
      assert.equal(store.streams.blockedReaders, 0);
      // The group read never delivered: the entry added now is still new to the group.
      await writer.call("XADD", "d", "1", "f", "v");
      assert.deepEqual(await writer.call("XREADGROUP", "GROUP", "g", "other", "STREAMS", "d", ">"), [
        ["d", [["1-0", ["f", "v"]]]],
      ]);
    } finally {
      writer.close();
    }
  });
});

test("past blockedClientsMax a blocking read is refused with an error", async () => {
  await withServer(
    async (server) => {
      const first = await RawClient.connect(server.respPort);
      const second = await RawClient.connect(server.respPort);
      const writer = await RawClient.connect(server.respPort);
      try {
        const waiting = first.call("XREAD", "BLOCK", "0", "STREAMS", "m", "$");
        await waitForBlocked(server, 1);
        assert.deepEqual(
          await second.call("XREAD", "BLOCK", "0", "STREAMS", "m", "$"),
          new RespReplyError("ERR max number of blocked clients reached (1)"),
        );
        // A read with something to return does not block, so it is not refused.
        await writer.call("XADD", "other", "1", "f", "v");
        assert.deepEqual(await second.call("XREAD", "BLOCK", "0", "STREAMS", "other", "0"), [["other", [["1-0", ["f", "v"]]]]]);
        await writer.call("XADD", "m", "1", "f", "v");
        assert.deepEqual(await waiting, [["m", [["1-0", ["f", "v"]]]]]);
        assert.equal(blockedClients(server), 0);
      } finally {
        first.close();
        second.close();
        writer.close();
      }
    },
    { streamBlockedReadsMax: 1 },
  );
});

test("XREADGROUP BLOCK is woken by new entries, and ignores BLOCK when reading history", async () => {
  await withServer(async (server) => {
    const reader = await RawClient.connect(server.respPort);
    const writer = await RawClient.connect(server.respPort);
    try {
      await writer.call("XGROUP", "CREATE", "q", "g", "$", "MKSTREAM");
      await writer.call("XADD", "q", "666", "key", "value");
      await writer.call("XDEL", "q", "666");
      // Entries the group has seen are gone: a `>` read times out with nil, not an empty array.
      assert.equal(await reader.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "q", ">"), null);
      for (const id of ["0", "600", "666", "700"]) {
        assert.deepEqual(await reader.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", id), [["q", []]]);
      }
      const read = reader.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", ">");
      await waitForBlocked(server, 1);
      await writer.call("XADD", "q", "667", "key", "value");
      assert.deepEqual(await read, [["q", [["667-0", ["key", "value"]]]]]);
      // A history read returns the pending entries after the ID given.
      for (const id of ["0", "600", "666"]) {
        assert.deepEqual(await reader.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", id), [
          ["q", [["667-0", ["key", "value"]]]],
        ]);
      }
      for (const id of ["667", "700", "18446744073709551615-18446744073709551614"]) {
        assert.deepEqual(await reader.call("XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "q", id), [["q", []]]);
      }
      // Redis marks `>` with the last possible ID: given, it reads new entries.
      assert.equal(
        await reader.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "q", "18446744073709551615-18446744073709551615"),
        null,
      );
      // NOACK while blocked: delivered, and nothing pending.
      const noAck = reader.call("XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "NOACK", "STREAMS", "q", ">");
      await waitForBlocked(server, 1);
      await writer.call("XADD", "q", "668", "f", "v");
      assert.deepEqual(await noAck, [["q", [["668-0", ["f", "v"]]]]]);
      assert.deepEqual(await writer.call("XPENDING", "q", "g"), [1, "667-0", "667-0", [["c", "1"]]]);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

test("a blocked XREADGROUP is answered when its group is destroyed or its key deleted or replaced", async () => {
  await withServer(async (server) => {
    const reader = await RawClient.connect(server.respPort);
    const writer = await RawClient.connect(server.respPort);
    try {
      await writer.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM");
      let read = reader.call("XREADGROUP", "GROUP", "g", "Alice", "BLOCK", "0", "STREAMS", "k", ">");
      await waitForBlocked(server, 1);
      assert.equal(await writer.call("XGROUP", "DESTROY", "k", "g"), 1);
      assert.deepEqual(await read, new RespReplyError("NOGROUP the consumer group this client was blocked on no longer exists"));
      const stats = server.server.resp?.stats;
      assert.equal(stats?.errors.get("NOGROUP"), 1);
      assert.equal(stats?.command("xreadgroup").failedCalls, 1);

      await writer.call("XGROUP", "CREATE", "k", "g", "$");
      read = reader.call("XREADGROUP", "GROUP", "g", "Alice", "BLOCK", "0", "STREAMS", "k", ">");
      await waitForBlocked(server, 1);
      assert.equal(await writer.call("SET", "k", "val1"), "OK");
      assert.deepEqual(await read, new RespReplyError("UNBLOCKED the stream key no longer exists"));

      await server.server.store.keyspace.write([{ type: "delete", key: `${dataPrefix(OPEN_TENANT)}k` }]);
      await writer.call("XGROUP", "CREATE", "k", "g", "$", "MKSTREAM");
      read = reader.call("XREADGROUP", "GROUP", "g", "Alice", "BLOCK", "0", "STREAMS", "k", ">");
      await waitForBlocked(server, 1);
      await server.server.store.keyspace.write([{ type: "delete", key: `${dataPrefix(OPEN_TENANT)}k` }]);
      assert.deepEqual(await read, new RespReplyError("UNBLOCKED the stream key no longer exists"));
      assert.equal(blockedClients(server), 0);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

test("a blocked XREAD keeps waiting when its key is replaced by a string, and reads the stream made again", async () => {
  await withServer(async (server) => {
    const reader = await RawClient.connect(server.respPort);
    const writer = await RawClient.connect(server.respPort);
    try {
      await writer.call("XADD", "k", "666", "f", "v");
      const read = reader.call("XREAD", "BLOCK", "0", "STREAMS", "k", "$");
      await waitForBlocked(server, 1);
      await writer.call("SET", "k", "val1");
      assert.equal(await settledSoon(read, 100), "pending");
      await server.server.store.keyspace.write([{ type: "delete", key: `${dataPrefix(OPEN_TENANT)}k` }]);
      await writer.call("XADD", "k", "667", "f", "v");
      assert.deepEqual(await read, [["k", [["667-0", ["f", "v"]]]]]);
    } finally {
      reader.close();
      writer.close();
    }
  });
});

test("inside MULTI a blocking read answers at once, and EXEC's stream writes wake blocked readers", async () => {
  await withServer(async (server) => {
    const reader = await RawClient.connect(server.respPort);
    const writer = await RawClient.connect(server.respPort);
    try {
      await writer.call("XGROUP", "CREATE", "e", "g", "$", "MKSTREAM");
      const exec = await writer.pipeline([
        ["MULTI"],
        ["XREAD", "BLOCK", "0", "STREAMS", "e", "$"],
        ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "e", ">"],
        ["EXEC"],
      ]);
      assert.deepEqual(exec[3], [null, null]);
      assert.equal(blockedClients(server), 0);
      const read = reader.call("XREAD", "BLOCK", "20000", "STREAMS", "e", "e", "e", "$", "$", "$");
      await waitForBlocked(server, 1);
      const written = await writer.pipeline([
        ["MULTI"],
        ["XADD", "e", "1", "field", "one"],
        ["XADD", "e", "2", "field", "two"],
        ["XADD", "e", "3", "field", "three"],
        ["EXEC"],
      ]);
      assert.deepEqual(written[4], ["1-0", "2-0", "3-0"]);
      const reply = (await read) as RespValue[][];
      assert.equal(reply[0]?.[0], "e");
      assert.deepEqual(((reply[0] as RespValue[])[1] as RespValue[]).slice(0, 2), [
        ["1-0", ["field", "one"]],
        ["2-0", ["field", "two"]],
      ]);
    } finally {
      reader.close();
      writer.close();
    }
  });
});
