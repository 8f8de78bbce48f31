import assert from "node:assert/strict";
import { test } from "node:test";
import { freePort, RawClient } from "../support/resp.js";
import { startTestServer } from "../support/server.js";
import { tempDir } from "../support/temp.js";
import { makeStream, NOT_AN_INTEGER, plain, replies, SYNTAX, WRONGTYPE, withServer } from "./string-support.js";

test("SET and GET round-trip every byte value, in keys and values, and the empty string", () =>
  withServer(async ({ client }) => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.equal(await client.call("SET", all, all), "OK");
    assert.equal(await client.call("GET", all), all.toString("latin1"));
    for (let byte = 0; byte < 256; byte++) {
      const one = Buffer.from([byte]);
      assert.equal(await client.call("SET", Buffer.concat([Buffer.from("b:"), one]), one), "OK");
    }
    const back = await client.pipeline(Array.from({ length: 256 }, (_, i) => ["GET", Buffer.from([98, 58, i])]));
    assert.deepEqual(
      back,
      Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)),
    );
    assert.deepEqual(
      await replies(client, [
        ["SET", "empty", ""],
        ["GET", "empty"],
        ["GET", "never"],
      ]),
      ["OK", "", null],
    );
  }));

test("a value as long as the longest bulk string is stored; one byte more is refused", () =>
  withServer(
    async ({ client }) => {
      const max = 100_000;
      const big = Buffer.alloc(max, 0xa5);
      assert.equal(await client.call("SET", "big", big), "OK");
      assert.equal(await client.call("GET", "big"), big.toString("latin1"));
      const tooLong = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)";
      assert.deepEqual(
        await replies(client, [
          ["APPEND", "big", "x"],
          ["STRLEN", "big"],
        ]),
        [tooLong, max],
      );
      assert.deepEqual(
        await replies(client, [
          ["SETRANGE", "big", max - 1, "y"],
          ["SETRANGE", "big", max - 1, "yz"],
          ["SETRANGE", "fresh", max, "y"],
          ["SETRANGE", "fresh", "9223372036854775807", "y"],
          ["APPEND", "half", Buffer.alloc(max / 2)],
          ["APPEND", "half", Buffer.alloc(max / 2)],
          ["APPEND", "half", "!"],
        ]),
        [max, tooLong, tooLong, tooLong, max / 2, max, tooLong],
      );
    },
    { respBulkBytesMax: 100_000 },
  ));

test("Redis's 4 MB GET/SET payload goes through under the default limit", () =>
  withServer(async ({ client }) => {
    const payload = "abcd".repeat(1_000_000);
    assert.equal(await client.call("SET", "foo", payload), "OK");
    assert.equal(await client.call("GET", "foo"), payload);
  }));

test("SET NX, XX and GET decide on the key as it is, and answer as Redis does", () =>
  withServer(async ({ server, client }) => {
    await makeStream(server, "stream");
    assert.deepEqual(
      await replies(client, [
        ["SET", "foo", "1", "NX"],
        ["SET", "foo", "2", "nx"],
        ["GET", "foo"],
        ["SET", "bar", "1", "XX"],
        ["GET", "bar"],
        ["SET", "foo", "3", "XX"],
        ["SET", "foo", "4", "GET"],
        ["SET", "new", "v", "GET"],
        ["SET", "foo", "5", "GET", "NX"],
        ["SET", "none", "v", "GET", "XX"],
        ["GET", "none"],
        ["SET", "foo", "6", "XX", "GET"],
        ["SET", "foo", "7", "GET", "GET", "XX", "XX"],
        ["GET", "foo"],
        ["SET", "stream", "x", "GET"],
        ["SET", "stream", "x", "NX"],
        ["SET", "stream", "x", "XX"],
        ["GET", "stream"],
      ]),
      ["OK", null, "1", null, null, "OK", "3", null, "4", null, null, "4", "6", "7", WRONGTYPE, null, "OK", "x"],
    );
  }));

test("SET refuses conflicting options and invalid expire times with Redis's texts", () =>
  withServer(async ({ client }) => {
    const invalid = "-ERR invalid expire time in 'set' command";
    const cases: [(string | number)[], string][] = [
      [["NX", "XX"], SYNTAX],
      [["XX", "NX"], SYNTAX],
      [["EX", "10", "PX", "10"], SYNTAX],
      [["PX", "10", "EXAT", "10"], SYNTAX],
      [["EXAT", "10", "PXAT", "10"], SYNTAX],
      [["EX", "10", "KEEPTTL"], SYNTAX],
      [["KEEPTTL", "PXAT", "10"], SYNTAX],
      [["PERSIST"], SYNTAX],
      [["EX"], SYNTAX],
      [["FOO"], SYNTAX],
      [["NX\u0000X"], "OK"],
      [["EX", "abc"], NOT_AN_INTEGER],
      [["EX", "1.5"], NOT_AN_INTEGER],
      [["EX", "0"], invalid],
      [["PX", "-1"], invalid],
      [["EXAT", "-9223372036854775808"], invalid],
      [["EX", "9223372036854776"], invalid],
      [["EX", "9223372036854775"], invalid],
      [["PX", "9223372036854775807"], invalid],
      [["PXAT", "9223372036854775807"], "OK"],
      [["EX", "10", "EX", "20"], "OK"],
      [["KEEPTTL", "KEEPTTL", "XX"], "OK"],
    ];
    for (const [options, expected] of cases) {
      assert.equal(plain(await client.call("SET", "k", "v", ...options)), expected, options.join(" "));
    }
  }));

test("SETNX, SETEX, PSETEX and GETSET", () =>
  withServer(async ({ server, client }) => {
    await makeStream(server, "stream");
    assert.deepEqual(
      await replies(client, [
        ["SETNX", "n", "a"],
        ["SETNX", "n", "b"],
        ["SETNX", "stream", "b"],
        ["GET", "n"],
        ["SETEX", "e", "100", "v"],
        ["GET", "e"],
        ["SETEX", "e", "0", "v"],
        ["SETEX", "e", "x", "v"],
        ["PSETEX", "p", "-5", "v"],
        ["PSETEX", "p", "100000", "w"],
        ["GET", "p"],
        ["SETEX", "e", "10"],
        ["GETSET", "g", "1"],
        ["GETSET", "g", "2"],
        ["GET", "g"],
        ["GETSET", "stream", "x"],
      ]),
      [
        1,
        0,
        0,
        "a",
        "OK",
        "v",
        "-ERR invalid expire time in 'setex' command",
        NOT_AN_INTEGER,
        "-ERR invalid expire time in 'psetex' command",
        "OK",
        "w",
        "-ERR wrong number of arguments for 'setex' command",
        null,
        "1",
        "2",
        WRONGTYPE,
      ],
    );
  }));

test("GETDEL deletes what it answers; GETEX without a change answers like GET", () =>
  withServer(async ({ server, client }) => {
    await makeStream(server, "stream");
    assert.deepEqual(
      await replies(client, [
        ["SET", "foo", "bar"],
        ["GETDEL", "foo"],
        ["GETDEL", "foo"],
        ["GET", "foo"],
        ["GETDEL", "stream"],
        ["SET", "foo", "bar"],
        ["GETEX", "foo"],
        ["GETEX", "foo", "PERSIST"],
        ["GETEX", "missing"],
        ["GETEX", "missing", "EX", "0"],
        ["GETEX", "foo", "non-existent-option"],
        ["GETEX", "foo", "EX", "abc"],
        ["GETEX", "foo", "EX", "0"],
        ["GETEX", "foo", "PXAT", "-1"],
        ["GETEX", "foo", "PERSIST", "EX", "10"],
        ["GETEX", "foo", "EX", "10", "PERSIST"],
        ["GETEX", "foo", "KEEPTTL"],
        ["GETEX", "foo", "NX"],
        ["GETEX", "foo", "GET"],
        ["GETEX", "stream"],
        ["GETEX"],
      ]),
      [
        "OK",
        "bar",
        null,
        null,
        WRONGTYPE,
        "OK",
        "bar",
        "bar",
        null,
        null,
        SYNTAX,
        NOT_AN_INTEGER,
        "-ERR invalid expire time in 'getex' command",
        "-ERR invalid expire time in 'getex' command",
        SYNTAX,
        SYNTAX,
        SYNTAX,
        SYNTAX,
        SYNTAX,
        WRONGTYPE,
        "-ERR wrong number of arguments for 'getex' command",
      ],
    );
  }));

test("MGET answers nil for absent keys and streams; MSET and MSETNX set all or (MSETNX) none", () =>
  withServer(async ({ server, client }) => {
    await makeStream(server, "stream");
    assert.deepEqual(
      await replies(client, [
        ["MSET", "x", "10", "y", "foo bar", "z", "x x\n\n\r\n"],
        ["MGET", "x", "y", "z", "nope", "stream"],
        ["MSET", "x", "10", "y"],
        ["MSETNX", "x", "20", "y"],
        ["MSETNX", "x1", "xxx", "y2", "yyy", "x", "20"],
        ["MGET", "x1", "y2", "x"],
        ["MSETNX", "x1", "xxx", "y2", "yyy"],
        ["MGET", "x1", "y2"],
        ["MSETNX", "x3", "xxx", "x3", "yyy"],
        ["GET", "x3"],
        ["MSETNX", "x3", "xxx", "x3", "zzz"],
        ["MSETNX", "new", "1", "stream", "2"],
        ["MSET", "stream", "s", "x", "11"],
        ["MGET", "stream", "x"],
        ["MGET"],
      ]),
      [
        "OK",
        ["10", "foo bar", "x x\n\n\r\n", null, null],
        "-ERR wrong number of arguments for 'mset' command",
        "-ERR wrong number of arguments for 'msetnx' command",
        0,
        [null, null, "10"],
        1,
        ["xxx", "yyy"],
        1,
        "yyy",
        0,
        0,
        "OK",
        ["s", "11"],
        "-ERR wrong number of arguments for 'mget' command",
      ],
    );
  }));

test("every string command but SET, MSET and MGET refuses a key that holds a stream", () =>
  withServer(async ({ server, client }) => {
    await makeStream(server, "s");
    const commands = [
      ["GET", "s"],
      ["GETSET", "s", "v"],
      ["GETDEL", "s"],
      ["GETEX", "s", "PERSIST"],
      ["APPEND", "s", "v"],
      ["STRLEN", "s"],
      ["SETRANGE", "s", "0", "v"],
      ["GETRANGE", "s", "0", "-1"],
      ["SUBSTR", "s", "0", "-1"],
      ["INCR", "s"],
      ["DECR", "s"],
      ["INCRBY", "s", "2"],
      ["DECRBY", "s", "2"],
      ["INCRBYFLOAT", "s", "1.5"],
      ["SETBIT", "s", "0", "1"],
      ["GETBIT", "s", "0"],
    ];
    for (const command of commands) assert.equal(plain(await client.call(...command)), WRONGTYPE, command[0]);
    assert.equal(plain(await client.call("LCS", "s", "x")), "-ERR The specified keys must contain string values");
    assert.equal(plain(await client.call("SET", "s", "now a string")), "OK");
    assert.equal(await client.call("GET", "s"), "now a string");
  }));

test("read-modify-write commands inside MULTI see the transaction's own writes", () =>
  withServer(async ({ client }) => {
    assert.deepEqual(
      await replies(client, [
        ["MULTI"],
        ["SET", "t", "1"],
        ["INCR", "t"],
        ["APPEND", "t", "0"],
        ["SET", "t", "x", "GET"],
        ["SETNX", "t", "y"],
        ["GETDEL", "t"],
        ["SET", "t", "z", "XX"],
        ["MSETNX", "t", "1", "u", "2"],
        ["MGET", "t", "u"],
        ["EXEC"],
      ]),
      ["OK", ...Array(9).fill("QUEUED"), ["OK", 2, 2, "20", 0, "x", null, 1, ["1", "2"]]],
    );
  }));

test("acknowledged string writes are read back after the server restarts on the same directory", async () => {
  const dir = await tempDir("logbook-resp-strings-");
  const start = async () => {
    const server = await startTestServer({ respPort: await freePort() }, { dir: dir.path });
    return { server, client: await RawClient.connect(server.server.resp?.port as number) };
  };
  try {
    const first = await start();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(
      await replies(first.client, [
        ["SET", "a", all],
        ["MSET", "b", "1", "c", "2"],
        ["INCRBY", "n", "9007199254740993"],
        ["INCRBYFLOAT", "f", "0.1"],
        ["INCRBYFLOAT", "f", "0.2"],
        ["APPEND", "b", "x"],
        ["SETBIT", "bits", "9", "1"],
        ["GETDEL", "c"],
      ]),
      ["OK", "OK", 9007199254740992, "0.1", "0.3", 2, 0, "2"],
    );
    first.client.close();
    await first.server.stop();
    const second = await start();
    assert.deepEqual(await second.client.call("MGET", "a", "b", "c", "n", "f", "bits"), [
      all.toString("latin1"),
      "1x",
      null,
      "9007199254740993",
      "0.3",
      "\x00\x40",
    ]);
    second.client.close();
    await second.server.stop();
  } finally {
    await dir.cleanup();
  }
});
