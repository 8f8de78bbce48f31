import assert from "node:assert/strict";
import { test } from "node:test";
import { RawClient } from "../support/resp.js";
import { NOT_AN_INTEGER, plain, replies, wireReplies, withServer } from "./string-support.js";

const OVERFLOW = "-ERR increment or decrement would overflow";
const NOT_A_FLOAT = "-ERR value is not a valid float";
const NOT_FINITE = "-ERR increment would produce NaN or Infinity";

test("INCR, DECR, INCRBY and DECRBY count from zero and over 32 bits", () =>
  withServer(async ({ client }) => {
    assert.deepEqual(
      await replies(client, [
        ["INCR", "novar"],
        ["GET", "novar"],
        ["INCR", "novar"],
        ["SET", "novar", "100"],
        ["INCR", "novar"],
        ["SET", "novar", "17179869184"],
        ["INCR", "novar"],
        ["INCRBY", "novar", "17179869184"],
        ["SET", "novar", "17179869184"],
        ["DECRBY", "novar", "17179869185"],
        ["DECR", "novar"],
        ["DECR", "fresh"],
        ["DECRBY", "fresh2", "-5"],
        ["INCRBY", "fresh3", "0"],
      ]),
      [1, "1", 2, "OK", 101, "OK", 17179869185, 34359738369, "OK", -1, -2, -1, 5, 0],
    );
  }));

test("counters read values and increments as strictly as Redis's string2ll", () =>
  withServer(async ({ client }) => {
    for (const bad of [
      "    11",
      "11    ",
      " 11 ",
      "+1",
      "01",
      "-0",
      "1.5",
      "1e3",
      "",
      "-",
      "0x10",
      "1\u00002",
      "99999999999999999999",
    ]) {
      assert.equal(plain(await client.call("SET", "v", bad)), "OK");
      assert.equal(plain(await client.call("INCR", "v")), NOT_AN_INTEGER, JSON.stringify(bad));
      assert.equal(plain(await client.call("INCRBY", "ok", bad)), NOT_AN_INTEGER, JSON.stringify(bad));
    }
    assert.deepEqual(
      await replies(client, [
        ["SET", "v", "-0"],
        ["INCRBY", "v", "1"],
        ["GET", "v"],
      ]),
      ["OK", NOT_AN_INTEGER, "-0"],
    );
  }));

test("counters are exact over the whole int64 range, and refuse to overflow it", () =>
  withServer(async ({ server }) => {
    const steps: [(string | number)[], string][] = [
      [["SET", "n", "9007199254740991"], "+OK"],
      [["INCR", "n"], ":9007199254740992"],
      [["INCR", "n"], ":9007199254740993"],
      [["GET", "n"], "$9007199254740993"],
      [["INCRBY", "n", "9007199254740993"], ":18014398509481986"],
      [["DECRBY", "n", "18014398509481985"], ":1"],
      [["SET", "n", "9223372036854775806"], "+OK"],
      [["INCR", "n"], ":9223372036854775807"],
      [["INCR", "n"], OVERFLOW],
      [["GET", "n"], "$9223372036854775807"],
      [["SET", "n", "-9223372036854775807"], "+OK"],
      [["DECR", "n"], ":-9223372036854775808"],
      [["DECR", "n"], OVERFLOW],
      [["DECRBY", "n", "-9223372036854775807"], ":-1"],
      [["SET", "x", "0"], "+OK"],
      [["DECRBY", "x", "-9223372036854775808"], "-ERR decrement would overflow"],
      [["DECRBY", "x", "9223372036854775807"], ":-9223372036854775807"],
      [["DECRBY", "x", "1"], ":-9223372036854775808"],
      [["DECRBY", "x", "1"], OVERFLOW],
      [["INCRBY", "x", "9223372036854775807"], ":-1"],
      [["INCRBY", "x", "9223372036854775807"], ":9223372036854775806"],
      [["GET", "x"], "$9223372036854775806"],
      [["SET", "y", "0"], "+OK"],
      [["INCRBY", "y", "-9223372036854775808"], ":-9223372036854775808"],
    ];
    const wire = await wireReplies(
      server.respPort,
      steps.map(([command]) => command),
    );
    assert.deepEqual(
      wire,
      steps.map(([, reply]) => reply),
    );
  }));

test("INCRBYFLOAT adds in Redis's long double and prints as Redis does", () =>
  withServer(async ({ client }) => {
    const sums: [string, string, string][] = [
      ["0.1", "0.2", "0.3"],
      ["10.5", "0.1", "10.6"],
      ["17179869184", "1.5", "17179869185.5"],
      ["17179869184", "17179869184", "34359738368"],
      ["1.5", "1.5", "3"],
      ["1", "-1.1", "-0.1"],
      ["3.0e3", "1e-3", "3000.00099999999999989"],
      ["-0.1", "0.1", "0"],
      ["0.000003814697265625", "0", "0.00000381469726562"],
      ["0x1p-16445", "0", "0"],
      ["5.0e3", "2.0e2", "5200"],
      ["0.024390243902439025", "-0.024390243902439025", "0"],
      ["1", "0x1.8p1", "4"],
      ["1", "+.5", "1.5"],
      ["1", "5.", "6"],
      ["1", "1E2", "101"],
    ];
    for (const [start, increment, sum] of sums) {
      assert.deepEqual(
        await replies(client, [
          ["SET", "f", start],
          ["INCRBYFLOAT", "f", increment],
          ["GET", "f"],
        ]),
        ["OK", sum, sum],
      );
    }
    assert.deepEqual(
      await replies(client, [
        ["INCRBYFLOAT", "fresh", "1"],
        ["INCRBYFLOAT", "fresh", "0.25"],
      ]),
      ["1", "1.25"],
    );
    const huge = await replies(client, [
      ["SET", "h", "1e308"],
      ["INCRBYFLOAT", "h", "1e308"],
    ]);
    assert.equal((huge[1] as string).length, 309);
    assert.ok(
      (huge[1] as string).startsWith("1999999999999999999933717593116912913211201996948311344155940959898434697376761237442"),
    );
    assert.ok((huge[1] as string).endsWith("1514636284849020905456510092687857156096"));
  }));

test("INCRBYFLOAT refuses what is not a valid float, and any sum that is not finite", () =>
  withServer(async ({ client }) => {
    for (const bad of [
      "    11",
      "11    ",
      " 11 ",
      "1\u00002",
      "abc",
      "",
      ".",
      "1e",
      "0x",
      "nan",
      "-nan",
      "1e-5000",
      "1e5000",
      "infin",
    ]) {
      assert.deepEqual(
        await replies(client, [
          ["SET", "v", bad],
          ["INCRBYFLOAT", "v", "1"],
        ]),
        ["OK", NOT_A_FLOAT],
        JSON.stringify(bad),
      );
      assert.equal(plain(await client.call("INCRBYFLOAT", "ok", bad)), NOT_A_FLOAT, JSON.stringify(bad));
    }
    assert.deepEqual(
      await replies(client, [
        ["SET", "foo", "0"],
        ["INCRBYFLOAT", "foo", "+inf"],
        ["INCRBYFLOAT", "foo", "-Infinity"],
        ["SET", "big", "1.1e4932"],
        ["INCRBYFLOAT", "big", "1.1e4932"],
        ["SET", "inf", "inf"],
        ["INCRBYFLOAT", "inf", "-1"],
        ["GET", "foo"],
        ["INCRBYFLOAT", "ok", "1", "2"],
      ]),
      [
        "OK",
        NOT_FINITE,
        NOT_FINITE,
        "OK",
        NOT_FINITE,
        "OK",
        NOT_FINITE,
        "0",
        "-ERR wrong number of arguments for 'incrbyfloat' command",
      ],
    );
  }));

test("10 clients each pipelining 200 INCRs on one key count every one of them", () =>
  withServer(async ({ server, client }) => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(server.respPort)));
    try {
      const results = await Promise.all(
        clients.map((each) => each.pipeline(Array.from({ length: 200 }, () => ["INCR", "counter"]))),
      );
      const seen = results.flat() as number[];
      assert.equal(seen.length, 2000);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        Array.from({ length: 2000 }, (_, i) => i + 1),
      );
      for (const replies of results)
        for (let i = 1; i < replies.length; i++) assert.ok((replies[i] as number) > (replies[i - 1] as number));
      assert.equal(await client.call("GET", "counter"), "2000");
      await Promise.all(clients.map((each, i) => each.pipeline(Array.from({ length: 50 }, () => ["APPEND", "log", String(i)]))));
      assert.equal(((await client.call("GET", "log")) as string).length, 50 * 10);
    } finally {
      for (const each of clients) each.close();
    }
  }));
