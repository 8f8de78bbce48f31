import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { dataPrefix } from "../../src/server/namespace.js";
import { RawClient, RespReplyError, type RespTestServer, startRespServer } from "../support/resp.js";

async function withClient(body: (client: RawClient, server: RespTestServer) => Promise<void>): Promise<void> {
  const server = await startRespServer();
  const client = await RawClient.connect(server.respPort);
  try {
    await body(client, server);
  } finally {
    client.close();
    await server.stop();
  }
}

function error(message: string): RespReplyError {
  return new RespReplyError(message);
}

function assertBetween(value: unknown, low: number, high: number): void {
  assert.equal(typeof value, "number");
  assert.ok((value as number) >= low && (value as number) <= high, `${value} in [${low}, ${high}]`);
}

test("EXPIRE's options and times are checked as Redis checks them, options first", async () => {
  await withClient(async (client) => {
    await client.call("SET", "foo", "bar");
    const cases: [string[], string][] = [
      [["EXPIRE", "foo", "200", "LT", "GT"], "ERR GT and LT options at the same time are not compatible"],
      [["EXPIRE", "foo", "200", "NX", "GT"], "ERR NX and XX, GT or LT options at the same time are not compatible"],
      [["EXPIRE", "foo", "200", "NX", "LT"], "ERR NX and XX, GT or LT options at the same time are not compatible"],
      [["EXPIRE", "foo", "200", "NX", "XX"], "ERR NX and XX, GT or LT options at the same time are not compatible"],
      [["EXPIRE", "foo", "200", "AB"], "ERR Unsupported option AB"],
      [["EXPIRE", "foo", "200", "XX", "AB"], "ERR Unsupported option AB"],
      // Options compare as C strings, up to a NUL byte, as Redis's strcasecmp does.
      [["EXPIRE", "foo", "200", "AB\0junk"], "ERR Unsupported option AB"],
      [["EXPIRE", "foo", "200", "NX", "xx\0junk"], "ERR NX and XX, GT or LT options at the same time are not compatible"],
      [["EXPIRE", "foo", "x", "AB"], "ERR Unsupported option AB"],
      [["EXPIRE", "foo", ""], "ERR value is not an integer or out of range"],
      [["EXPIRE", "foo", "1.5"], "ERR value is not an integer or out of range"],
      [["PEXPIRE", "foo", "+1"], "ERR value is not an integer or out of range"],
      [["EXPIRE", "foo", "9223370399119966"], "ERR invalid expire time in 'expire' command"],
      [["EXPIRE", "foo", "9223372036854776"], "ERR invalid expire time in 'expire' command"],
      [["EXPIRE", "foo", "10000000000000000"], "ERR invalid expire time in 'expire' command"],
      [["EXPIRE", "foo", "18446744073709561"], "ERR invalid expire time in 'expire' command"],
      [["EXPIRE", "foo", "-9223372036854776"], "ERR invalid expire time in 'expire' command"],
      [["EXPIRE", "foo", "-9999999999999999"], "ERR invalid expire time in 'expire' command"],
      [["PEXPIRE", "foo", "9223372036854770000"], "ERR invalid expire time in 'pexpire' command"],
      [["EXPIREAT", "foo", "9223372036854776"], "ERR invalid expire time in 'expireat' command"],
      [["EXPIRE", "foo"], "ERR wrong number of arguments for 'expire' command"],
      [["PEXPIREAT", "foo"], "ERR wrong number of arguments for 'pexpireat' command"],
      [["TTL"], "ERR wrong number of arguments for 'ttl' command"],
      [["PERSIST", "a", "b"], "ERR wrong number of arguments for 'persist' command"],
    ];
    for (const [command, message] of cases) assert.deepEqual(await client.call(...command), error(message), command.join(" "));
    assert.equal(await client.call("TTL", "foo"), -1);
  });
});

test("TTL, PTTL, EXPIRETIME and PEXPIRETIME answer -2 for no key and -1 for no expiry; PERSIST then answers 0", async () => {
  await withClient(async (client) => {
    await client.call("SET", "x", "hello");
    assert.deepEqual(
      await client.pipeline([
        ["TTL", "x"],
        ["PTTL", "x"],
        ["EXPIRETIME", "x"],
        ["PEXPIRETIME", "x"],
      ]),
      [-1, -1, -1, -1],
    );
    assert.deepEqual(
      await client.pipeline([
        ["TTL", "n"],
        ["PTTL", "n"],
        ["EXPIRETIME", "n"],
        ["PEXPIRETIME", "n"],
      ]),
      [-2, -2, -2, -2],
    );
    assert.deepEqual(
      await client.pipeline([
        ["PERSIST", "x"],
        ["PERSIST", "nokeyatall"],
      ]),
      [0, 0],
    );
  });
});

test("EXPIRE on a missing key answers 0 with every option; XX and GT leave a key without expiry alone", async () => {
  await withClient(async (client) => {
    for (const option of ["NX", "XX", "GT", "LT"]) assert.equal(await client.call("EXPIRE", "none", "100", option), 0);
    await client.call("SET", "foo", "bar");
    assert.equal(await client.call("EXPIRE", "foo", "200", "XX"), 0);
    assert.equal(await client.call("EXPIRE", "foo", "200", "GT"), 0);
    assert.equal(await client.call("EXPIRE", "foo", "200", "LT", "XX"), 0);
    assert.equal(await client.call("TTL", "foo"), -1);
  });
});

test("an expiry time already past deletes the key, and the delete is what is logged", async () => {
  await withClient(async (client, server) => {
    await client.call("SET", "foo", "bar");
    assert.equal(await client.call("EXPIRE", "foo", "-10", "LT"), 1);
    assert.equal(await client.call("TTL", "foo"), -2);
    await client.call("SET", "foo", "bar");
    assert.equal(await client.call("PEXPIREAT", "foo", "-9223372036854770000"), 1);
    assert.equal(await client.call("TTL", "foo"), -2);
    await client.call("SET", "foo", "bar");
    assert.equal(await client.call("EXPIREAT", "foo", String(Math.floor(Date.now() / 1000) - 100)), 1);
    assert.equal(await client.call("EXISTS", "foo"), 0);
    await server.server.resp?.reopenStore();
    assert.equal(await client.call("EXISTS", "foo"), 0);
  });
});

test("streams do not expire: TTL answers -1, PERSIST 0, EXPIRE WRONGTYPE, and a past time deletes the stream", async () => {
  await withClient(async (client, server) => {
    await server.server.store.streams.add(`${dataPrefix("default")}s`, { f: "v" });
    assert.deepEqual(
      await client.pipeline([
        ["TTL", "s"],
        ["PEXPIRETIME", "s"],
        ["PERSIST", "s"],
      ]),
      [-1, -1, 0],
    );
    assert.deepEqual(
      await client.call("EXPIRE", "s", "100"),
      error("WRONGTYPE Operation against a key holding the wrong kind of value"),
    );
    assert.deepEqual(
      await client.pipeline([
        ["EXPIRE", "s", "100", "XX"],
        ["EXPIRE", "s", "100", "GT"],
      ]),
      [0, 0],
    );
    assert.equal(await client.call("EXPIRE", "s", "0"), 1);
    assert.equal(await client.call("TYPE", "s"), "none");
  });
});

test("EXPIRE sets a time to live that TTL reports, and the key is gone once it passes", async () => {
  await withClient(async (client) => {
    await client.call("SET", "x", "foobar");
    assert.equal(await client.call("EXPIRE", "x", "5"), 1);
    assertBetween(await client.call("TTL", "x"), 4, 5);
    assert.equal(await client.call("EXPIRE", "x", "10"), 1);
    assert.equal(await client.call("TTL", "x"), 10);
    assertBetween(await client.call("PTTL", "x"), 9000, 10000);
    assert.equal(await client.call("GET", "x"), "foobar");
    assert.equal(await client.call("PEXPIRE", "x", "100"), 1);
    assert.equal(await client.call("GET", "x"), "foobar");
    await sleep(150);
    assert.deepEqual(
      await client.pipeline([
        ["GET", "x"],
        ["EXISTS", "x"],
        ["TTL", "x"],
        ["TYPE", "x"],
      ]),
      [null, 0, -2, "none"],
    );
  });
});

test("EXPIREAT and PEXPIREAT take absolute times that EXPIRETIME and PEXPIRETIME report", async () => {
  await withClient(async (client) => {
    await client.call("SET", "x", "foo");
    const seconds = Math.floor(Date.now() / 1000) + 15;
    assert.equal(await client.call("EXPIREAT", "x", String(seconds)), 1);
    assertBetween(await client.call("TTL", "x"), 13, 15);
    assert.equal(await client.call("EXPIRETIME", "x"), seconds);
    assert.equal(await client.call("PEXPIRETIME", "x"), seconds * 1000);
    const ms = Date.now() + 100_000;
    assert.equal(await client.call("PEXPIREAT", "x", String(ms)), 1);
    assert.equal(await client.call("PEXPIRETIME", "x"), ms);
    assert.equal(await client.call("EXPIRETIME", "x"), Math.floor((ms + 500) / 1000));
    assert.equal(await client.call("PEXPIREAT", "x", String(Date.now() + 200)), 1);
    assert.equal(await client.call("GET", "x"), "foo");
    await sleep(250);
    assert.equal(await client.call("GET", "x"), null);
    await client.call("SET", "big", "bar");
    assert.equal(await client.call("PEXPIREAT", "big", "9223372036854770000"), 1);
    assert.ok(((await client.call("TTL", "big")) as number) > 1e12);
  });
});

test("NX, XX, GT and LT decide against the key's current expiry as Redis 7.0's rules say", async () => {
  await withClient(async (client) => {
    const run = async (setup: string[], command: string[], reply: number, low: number, high: number) => {
      await client.call("SET", "foo", "bar");
      if (setup.length > 0) await client.call("EXPIRE", "foo", ...setup);
      assert.equal(await client.call("EXPIRE", "foo", ...command), reply, command.join(" "));
      assertBetween(await client.call("TTL", "foo"), low, high);
    };
    await run(["100"], ["200", "NX"], 0, 50, 100);
    await run([], ["200", "NX"], 1, 100, 200);
    await run(["100"], ["200", "XX"], 1, 100, 200);
    await run(["100"], ["200", "GT"], 1, 100, 200);
    await run(["200"], ["100", "GT"], 0, 100, 200);
    await run(["100"], ["200", "LT"], 0, 50, 100);
    await run(["200"], ["100", "LT"], 1, 50, 100);
    await run([], ["100", "LT"], 1, 50, 100);
    await run(["200"], ["100", "LT", "XX"], 1, 50, 100);
    await client.call("SET", "foo", "bar");
    await client.call("EXPIRE", "foo", "100");
    assert.equal(await client.call("EXPIRE", "foo", "-10", "LT"), 1);
    assert.equal(await client.call("TTL", "foo"), -2);
  });
});

test("PERSIST removes an expiry; SET without one replaces it", async () => {
  await withClient(async (client) => {
    await client.call("SET", "x", "foo");
    await client.call("EXPIRE", "x", "50");
    assert.deepEqual(
      await client.pipeline([
        ["TTL", "x"],
        ["PERSIST", "x"],
        ["TTL", "x"],
        ["GET", "x"],
      ]),
      [50, 1, -1, "foo"],
    );
    assert.equal(await client.call("PERSIST", "x"), 0);
    await client.call("EXPIRE", "x", "100");
    await client.call("SET", "x", "bar");
    assert.equal(await client.call("TTL", "x"), -1);
  });
});

test("RENAME moves the source's expiry and drops the target's; COPY copies it, or none", async () => {
  await withClient(async (client) => {
    await client.call("SET", "mykey", "foo");
    await client.call("EXPIRE", "mykey", "100");
    assertBetween(await client.call("TTL", "mykey"), 95, 100);
    assert.equal(await client.call("RENAME", "mykey", "mykey2"), "OK");
    assertBetween(await client.call("TTL", "mykey2"), 95, 100);
    await client.call("DEL", "mykey", "mykey2");
    await client.call("SET", "mykey", "foo");
    await client.call("SET", "mykey2", "bar");
    await client.call("EXPIRE", "mykey2", "100");
    assert.equal(await client.call("RENAME", "mykey", "mykey2"), "OK");
    assert.equal(await client.call("TTL", "mykey2"), -1);
    await client.call("EXPIRE", "mykey2", "100");
    assert.equal(await client.call("COPY", "mykey2", "mynewkey", "REPLACE"), 1);
    assertBetween(await client.call("TTL", "mynewkey"), 1, 100);
    assert.equal(await client.call("GET", "mynewkey"), "foo");
    await client.call("SET", "plain", "foobar");
    assert.equal(await client.call("COPY", "plain", "mynewkey", "REPLACE"), 1);
    assert.equal(await client.call("TTL", "mynewkey"), -1);
  });
});

test("an expired key is absent to every command before it is swept, and EXPIRE does not bring it back", async () => {
  await withClient(async (client) => {
    await client.call("SET", "gone", "v");
    await client.call("SET", "kept", "v");
    await client.call("PEXPIRE", "gone", "50");
    await sleep(100);
    assert.deepEqual(
      await client.pipeline([
        ["EXISTS", "gone"],
        ["TYPE", "gone"],
        ["TTL", "gone"],
        ["KEYS", "*"],
        ["SCAN", "0"],
        ["OBJECT", "ENCODING", "gone"],
        ["EXPIRE", "gone", "10"],
        ["PERSIST", "gone"],
        ["COPY", "gone", "copy"],
        ["RENAMENX", "gone", "other"],
        ["DEL", "gone"],
        ["EXISTS", "gone", "copy", "other"],
      ]),
      [0, "none", -2, ["kept"], ["0", ["kept"]], null, 0, 0, 0, error("ERR no such key"), 0, 0],
    );
  });
});

test("5 keys in, 5 keys out: KEYS lists a key with an expiry", async () => {
  await withClient(async (client) => {
    const replies = await client.pipeline([
      ["SET", "a", "c"],
      ["EXPIRE", "a", "5"],
      ["SET", "t", "c"],
      ["SET", "e", "c"],
      ["SET", "s", "c"],
      ["SET", "foo", "b"],
    ]);
    assert.deepEqual(replies, ["OK", 1, "OK", "OK", "OK", "OK"]);
    assert.deepEqual(((await client.call("KEYS", "*")) as string[]).sort(), ["a", "e", "foo", "s", "t"]);
  });
});

test("an expiry survives a restart of the store, as an absolute time", async () => {
  await withClient(async (client, server) => {
    await client.call("SET", "foo", "bar");
    await client.call("EXPIRE", "foo", "100");
    const at = await client.call("PEXPIRETIME", "foo");
    assert.ok((at as number) > Date.now());
    await server.server.resp?.reopenStore();
    assert.equal(await client.call("PEXPIRETIME", "foo"), at);
  });
});
