import assert from "node:assert/strict";
import { test } from "node:test";
import { pairsOf, RawClient, RespReplyError, type RespValue, startRespServer, withRespClient } from "../support/resp.js";

const INVALID_ID = new RespReplyError("ERR Invalid stream ID specified as stream command argument");
const WRONGTYPE = new RespReplyError("WRONGTYPE Operation against a key holding the wrong kind of value");
const SYNTAX = new RespReplyError("ERR syntax error");

const withClient = withRespClient;

const infoOf = pairsOf;

test("XADD generates, completes and checks IDs as Redis does", async () => {
  await withClient(async (c) => {
    assert.equal(await c.call("XADD", "s", "123-456", "a", "1"), "123-456");
    assert.equal(await c.call("XADD", "s", "123-*", "b", "2"), "123-457");
    assert.equal(await c.call("XADD", "s", "789-*", "c", "3"), "789-0");
    assert.equal(await c.call("XADD", "s", "790", "d", "4"), "790-0");
    const generated = (await c.call("XADD", "s", "*", "e", "5")) as string;
    assert.match(generated, /^\d+-0$/);
    assert.ok(BigInt(generated.split("-")[0] as string) > 790n);
    assert.deepEqual(
      await c.call("XADD", "s", "42-*", "x", "y"),
      new RespReplyError("ERR The ID specified in XADD is equal or smaller than the target stream top item"),
    );
    assert.deepEqual(
      await c.call("XADD", "s", "790-0", "x", "y"),
      new RespReplyError("ERR The ID specified in XADD is equal or smaller than the target stream top item"),
    );
    // 0-0 is refused before the key is looked at: no stream is left behind.
    assert.deepEqual(
      await c.call("XADD", "zero", "0-0", "x", "y"),
      new RespReplyError("ERR The ID specified in XADD must be greater than 0-0"),
    );
    assert.deepEqual(await c.call("XRANGE", "zero", "-", "+"), []);
    assert.equal(await c.call("XADD", "zero", "0-*", "x", "y"), "0-1");
    for (const bad of ["-", "+", "abc", "1-x", "18446744073709551616", "1-18446744073709551616", "-5", "1--1"]) {
      assert.deepEqual(await c.call("XADD", "s", bad, "x", "y"), INVALID_ID, bad);
    }
    // Redis reads each part with strtoull after string2ll: spaces and a sign before the digits pass.
    assert.equal(await c.call("XADD", "lenient", "+6- 1", "x", "y"), "6-1");
    assert.deepEqual(
      await c.call("XADD", "s", "NOMKSTREAM", "*"),
      new RespReplyError("ERR wrong number of arguments for 'xadd' command"),
    );
    assert.deepEqual(
      await c.call("XADD", "s", "*", "odd"),
      new RespReplyError("ERR wrong number of arguments for 'xadd' command"),
    );
    assert.deepEqual(
      await c.call("XADD", "s", "*", "a", "b", "c"),
      new RespReplyError("ERR wrong number of arguments for 'xadd' command"),
    );
  });
});

test("XADD stops at the last possible ID, and NOMKSTREAM does not create the stream", async () => {
  await withClient(async (c) => {
    assert.equal(
      await c.call("XADD", "top", "18446744073709551615-18446744073709551615", "a", "b"),
      "18446744073709551615-18446744073709551615",
    );
    assert.deepEqual(
      await c.call("XADD", "top", "*", "c", "d"),
      new RespReplyError("ERR The stream has exhausted the last possible ID, unable to add more items"),
    );
    assert.equal(await c.call("XADD", "seq", "1-18446744073709551615", "a", "b"), "1-18446744073709551615");
    assert.deepEqual(
      await c.call("XADD", "seq", "1-*", "c", "d"),
      new RespReplyError("ERR The ID specified in XADD is equal or smaller than the target stream top item"),
    );
    assert.equal(await c.call("XADD", "none", "NOMKSTREAM", "*", "a", "b"), null);
    assert.equal(await c.call("XLEN", "none"), 0);
    assert.deepEqual(await c.call("XINFO", "STREAM", "none"), new RespReplyError("ERR no such key"));
    assert.equal(await c.call("XADD", "some", "1", "a", "b"), "1-0");
    assert.equal(await c.call("XADD", "some", "nomkstream", "2", "a", "b"), "2-0");
    assert.equal(await c.call("XLEN", "some"), 2);
  });
});

test("XADD and XTRIM trim by MAXLEN and MINID, with Redis's option errors", async () => {
  await withClient(async (c) => {
    for (let j = 1; j <= 20; j++)
      await c.call("XADD", "t", "MAXLEN", j % 2 === 0 ? "=" : "5", ...(j % 2 === 0 ? ["5"] : []), String(j), "i", String(j));
    assert.equal(await c.call("XLEN", "t"), 5);
    assert.deepEqual(
      ((await c.call("XRANGE", "t", "-", "+")) as RespValue[][]).map((e) => e[0]),
      ["16-0", "17-0", "18-0", "19-0", "20-0"],
    );
    assert.equal(await c.call("XADD", "t", "MINID", "19", "21", "i", "21"), "21-0");
    assert.deepEqual(
      ((await c.call("XRANGE", "t", "-", "+")) as RespValue[][]).map((e) => e[0]),
      ["19-0", "20-0", "21-0"],
    );
    assert.equal(await c.call("XTRIM", "t", "MAXLEN", "=", "1"), 2);
    assert.equal(await c.call("XTRIM", "t", "MINID", "0"), 0);
    assert.equal(await c.call("XTRIM", "none", "MAXLEN", "0"), 0);
    // An approximate trim removes whole blocks only; this one's last entry is all that is left of it.
    assert.equal(await c.call("XTRIM", "t", "MAXLEN", "~", "0", "LIMIT", "0"), 1);
    assert.equal(await c.call("XLEN", "t"), 0);
    const errors: [string[], string][] = [
      [["XADD", "t", "MAXLEN", "-1", "*", "a", "b"], "ERR The MAXLEN argument must be >= 0."],
      [["XADD", "t", "MAXLEN", "x", "*", "a", "b"], "ERR value is not an integer or out of range"],
      [
        ["XADD", "t", "MAXLEN", "1", "MINID", "1", "*", "a", "b"],
        "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
      ],
      [
        ["XADD", "t", "LIMIT", "5", "*", "a", "b"],
        "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
      ],
      [["XADD", "t", "LIMIT", "0", "*", "a", "b"], "ERR syntax error, LIMIT cannot be used without the special ~ option"],
      [
        ["XADD", "t", "MAXLEN", "5", "LIMIT", "5", "*", "a", "b"],
        "ERR syntax error, LIMIT cannot be used without the special ~ option",
      ],
      [["XADD", "t", "MAXLEN", "~", "5", "LIMIT", "-1", "*", "a", "b"], "ERR The LIMIT argument must be >= 0."],
      [["XADD", "t", "MINID", "+", "*", "a", "b"], INVALID_ID.message],
      [["XADD", "t", "MAXLEN"], "ERR wrong number of arguments for 'xadd' command"],
      [["XTRIM", "t", "FOO", "1"], "ERR syntax error"],
      [["XTRIM", "t", "LIMIT", "1"], "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"],
      [["XTRIM", "t", "NOMKSTREAM", "x"], "ERR syntax error"],
      [["XTRIM", "t", "MAXLEN", "1", "LIMIT", "30"], "ERR syntax error, LIMIT cannot be used without the special ~ option"],
    ];
    for (const [args, message] of errors) assert.deepEqual(await c.call(...args), new RespReplyError(message), args.join(" "));
    assert.deepEqual(await c.call("XTRIM", "t"), new RespReplyError("ERR wrong number of arguments for 'xtrim' command"));
    // MAXLEN 0 on XADD leaves an empty stream behind, as Redis does.
    assert.match((await c.call("XADD", "empty", "MAXLEN", "0", "*", "a", "b")) as string, /^\d+-0$/);
    assert.equal(infoOf(await c.call("XINFO", "STREAM", "empty")).length, 0);
  });
});

test("XRANGE and XREVRANGE take -, +, incomplete and exclusive IDs and COUNT", async () => {
  await withClient(async (c) => {
    const ids = [
      "0-1",
      "0-18446744073709551615",
      "1-0",
      "42-0",
      "42-42",
      "18446744073709551615-18446744073709551614",
      "18446744073709551615-18446744073709551615",
    ];
    for (const id of ids) await c.call("XADD", "r", id, "foo", "bar");
    const idsOf = async (...args: string[]) => ((await c.call(...args)) as RespValue[][]).map((e) => e[0]);
    assert.deepEqual(await idsOf("XRANGE", "r", "-", "+"), ids);
    assert.deepEqual(await idsOf("XREVRANGE", "r", "+", "-"), [...ids].reverse());
    assert.deepEqual(await idsOf("XRANGE", "r", "(0-1", "+"), ids.slice(1));
    assert.deepEqual(await idsOf("XRANGE", "r", "-", "(18446744073709551615-18446744073709551615"), ids.slice(0, -1));
    assert.deepEqual(await idsOf("XRANGE", "r", "(0-1", "(1-0"), ["0-18446744073709551615"]);
    assert.deepEqual(await idsOf("XRANGE", "r", "(1-0", "(42-42"), ["42-0"]);
    assert.deepEqual(await idsOf("XRANGE", "r", "42", "42"), ["42-0", "42-42"]);
    assert.deepEqual(await idsOf("XRANGE", "r", "(42", "+"), ids.slice(4));
    assert.deepEqual(await idsOf("XRANGE", "r", "-", "+", "COUNT", "2"), ids.slice(0, 2));
    assert.deepEqual(await idsOf("XREVRANGE", "r", "+", "-", "COUNT", "1", "COUNT", "2"), ids.slice(-2).reverse());
    assert.deepEqual(await idsOf("XREVRANGE", "r", "42", "1"), ["42-42", "42-0", "1-0"]);
    assert.deepEqual(await c.call("XRANGE", "r", "+", "-"), []);
    // COUNT 0 (or negative) is a nil array on a stream, an empty one on no key.
    assert.equal(await c.call("XRANGE", "r", "-", "+", "COUNT", "0"), null);
    assert.equal(await c.call("XRANGE", "r", "-", "+", "COUNT", "-5"), null);
    assert.deepEqual(await c.call("XRANGE", "none", "-", "+", "COUNT", "0"), []);
    assert.deepEqual(await c.call("XRANGE", "r", "(-", "+"), INVALID_ID);
    assert.deepEqual(await c.call("XRANGE", "r", "-", "(+"), INVALID_ID);
    assert.deepEqual(await c.call("XRANGE", "r", "(", "+"), INVALID_ID);
    assert.deepEqual(
      await c.call("XRANGE", "r", "(18446744073709551615-18446744073709551615", "+"),
      new RespReplyError("ERR invalid start ID for the interval"),
    );
    assert.deepEqual(await c.call("XRANGE", "r", "-", "(0-0"), new RespReplyError("ERR invalid end ID for the interval"));
    assert.deepEqual(await c.call("XRANGE", "r", "-", "+", "COUNT"), SYNTAX);
    assert.deepEqual(await c.call("XRANGE", "r", "-", "+", "LIMIT", "1"), SYNTAX);
    assert.deepEqual(
      await c.call("XRANGE", "r", "-", "+", "COUNT", "x"),
      new RespReplyError("ERR value is not an integer or out of range"),
    );
    assert.deepEqual(await c.call("XRANGE", "r", "-"), new RespReplyError("ERR wrong number of arguments for 'xrange' command"));
    assert.deepEqual((await c.call("XRANGE", "r", "1", "1")) as RespValue, [["1-0", ["foo", "bar"]]]);
  });
});

test("XDEL and XSETID, and the counters XINFO STREAM shows", async () => {
  await withClient(async (c) => {
    for (let i = 1; i <= 5; i++) await c.call("XADD", "x", `${i}-0`, "data", String(i));
    // On no key XDEL answers 0 before it reads the IDs.
    assert.equal(await c.call("XDEL", "none", "not-an-id"), 0);
    assert.deepEqual(await c.call("XDEL", "x", "1-0", "not-an-id"), INVALID_ID);
    assert.equal(await c.call("XDEL", "x", "2-0", "9-0", "2-0"), 1);
    let info = infoOf(await c.call("XINFO", "STREAM", "x"));
    assert.equal(info["max-deleted-entry-id"], "2-0");
    assert.equal(info["recorded-first-entry-id"], "1-0");
    assert.equal(await c.call("XDEL", "x", "1"), 1);
    info = infoOf(await c.call("XINFO", "STREAM", "x"));
    assert.equal(info["recorded-first-entry-id"], "3-0");
    assert.equal(info["max-deleted-entry-id"], "2-0");
    assert.equal(info["entries-added"], 5);
    assert.equal(info.length, 3);
    assert.equal(await c.call("XTRIM", "x", "MAXLEN", "=", "2"), 1);
    assert.equal(infoOf(await c.call("XINFO", "STREAM", "x"))["recorded-first-entry-id"], "4-0");

    assert.equal(await c.call("XSETID", "x", "200-0"), "OK");
    assert.equal(infoOf(await c.call("XINFO", "STREAM", "x"))["last-generated-id"], "200-0");
    assert.deepEqual(
      await c.call("XSETID", "x", "1-1"),
      new RespReplyError("ERR The ID specified in XSETID is smaller than the target stream top item"),
    );
    assert.deepEqual(await c.call("XSETID", "nostream", "1-1"), new RespReplyError("ERR no such key"));
    assert.deepEqual(await c.call("XSETID", "nostream", "1-1", "0"), SYNTAX);
    assert.deepEqual(await c.call("XSETID", "nostream", "1-1", "0-0"), SYNTAX);
    assert.deepEqual(
      await c.call("XSETID", "nostream", "1-1", "ENTRIESADDED", "-1", "MAXDELETEDID", "0-0"),
      new RespReplyError("ERR entries_added must be positive"),
    );
    assert.deepEqual(
      await c.call("XSETID", "x", "300-0", "ENTRIESADDED", "1", "MAXDELETEDID", "0-0"),
      new RespReplyError("ERR The entries_added specified in XSETID is smaller than the target stream length"),
    );
    assert.deepEqual(
      await c.call("XSETID", "x", "300-0", "ENTRIESADDED", "9", "MAXDELETEDID", "400-0"),
      new RespReplyError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"),
    );
    assert.deepEqual(await c.call("XSETID", "x", "+"), INVALID_ID);
    assert.equal(await c.call("XSETID", "x", "300-0", "ENTRIESADDED", "9", "MAXDELETEDID", "250-0"), "OK");
    info = infoOf(await c.call("XINFO", "STREAM", "x"));
    assert.deepEqual([info["last-generated-id"], info["entries-added"], info["max-deleted-entry-id"]], ["300-0", 9, "250-0"]);
    assert.deepEqual(
      await c.call("XADD", "x", "300-0", "a", "b"),
      new RespReplyError("ERR The ID specified in XADD is equal or smaller than the target stream top item"),
    );
  });
});

test("XINFO STREAM answers Redis's fields, with the first and last entries", async () => {
  await withClient(async (c) => {
    await c.call("XADD", "i", "1-1", "a", "1");
    await c.call("XADD", "i", "2-1", "b", "2", "c", "3");
    assert.deepEqual(await c.call("XINFO", "STREAM", "i"), [
      "length",
      2,
      "radix-tree-keys",
      1,
      "radix-tree-nodes",
      2,
      "last-generated-id",
      "2-1",
      "max-deleted-entry-id",
      "0-0",
      "entries-added",
      2,
      "recorded-first-entry-id",
      "1-1",
      "groups",
      0,
      "first-entry",
      ["1-1", ["a", "1"]],
      "last-entry",
      ["2-1", ["b", "2", "c", "3"]],
    ]);
    assert.deepEqual(
      await c.call("XINFO", "STREAM", "i", "FOO"),
      new RespReplyError("ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP."),
    );
    assert.deepEqual(await c.call("XINFO", "STREAM", "none", "FOO"), new RespReplyError("ERR no such key"));
    assert.deepEqual(await c.call("XINFO", "FOO", "i"), new RespReplyError("ERR unknown subcommand 'FOO'. Try XINFO HELP."));
    assert.deepEqual(
      await c.call("XINFO", "help", "xxx"),
      new RespReplyError("ERR wrong number of arguments for 'xinfo|help' command"),
    );
    assert.deepEqual(
      await c.call("XINFO", "STREAM"),
      new RespReplyError("ERR wrong number of arguments for 'xinfo|stream' command"),
    );
    const help = (await c.call("XINFO", "HELP")) as string[];
    assert.equal(help[0], "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert.equal(help.length, 9);
  });
});

test("keys, field names and values are binary: bytes that are not UTF-8 come back as they went", async () => {
  await withClient(async (c) => {
    const key = Buffer.from([0xff, 0x00, 0x80, 0x41]);
    const field = Buffer.from([0xc3, 0x28]);
    const value = Buffer.from([0xe2, 0x82, 0xac, 0xfe, 0x0d, 0x0a]);
    assert.equal(await c.call("XADD", key, "1-1", field, value, "é", "ü"), "1-1");
    const latin1 = (b: Buffer | string) => (typeof b === "string" ? Buffer.from(b, "utf8") : b).toString("latin1");
    assert.deepEqual(await c.call("XRANGE", key, "-", "+"), [["1-1", [latin1(field), latin1(value), latin1("é"), latin1("ü")]]]);
    assert.deepEqual(await c.call("XREAD", "STREAMS", key, "0"), [
      [latin1(key), [["1-1", [latin1(field), latin1(value), latin1("é"), latin1("ü")]]]],
    ]);
    assert.equal(await c.call("XLEN", key), 1);
  });
});

test("stream commands answer WRONGTYPE on a string key, and SET replaces a stream", async () => {
  await withClient(async (c) => {
    assert.equal(await c.call("SET", "str", "x"), "OK");
    for (const args of [
      ["XADD", "str", "*", "a", "b"],
      ["XLEN", "str"],
      ["XRANGE", "str", "-", "+"],
      ["XREVRANGE", "str", "+", "-"],
      ["XDEL", "str", "1-1"],
      ["XTRIM", "str", "MAXLEN", "0"],
      ["XSETID", "str", "1-1"],
      ["XREAD", "STREAMS", "str", "0"],
      ["XINFO", "STREAM", "str"],
    ]) {
      assert.deepEqual(await c.call(...args), WRONGTYPE, args.join(" "));
    }
    // The ID is checked before the key: 0-0 is refused as such even on a string key.
    assert.deepEqual(
      await c.call("XADD", "str", "0-0", "a", "b"),
      new RespReplyError("ERR The ID specified in XADD must be greater than 0-0"),
    );
    await c.call("XADD", "s", "1", "a", "b");
    assert.equal(await c.call("SET", "s", "now a string"), "OK");
    assert.equal(await c.call("GET", "s"), "now a string");
    assert.deepEqual(await c.call("XLEN", "s"), WRONGTYPE);
  });
});

test("pipelined stream writes apply in the order sent, and reads see the writes before them", async () => {
  await withClient(async (c) => {
    const replies = await c.pipeline([
      ["XADD", "p", "1", "a", "1"],
      ["XADD", "p", "2", "a", "2"],
      ["XDEL", "p", "1"],
      ["XADD", "p", "3", "a", "3"],
      ["XLEN", "p"],
      ["XTRIM", "p", "MAXLEN", "1"],
      ["XRANGE", "p", "-", "+"],
    ]);
    assert.deepEqual(replies, ["1-0", "2-0", 1, "3-0", 2, 1, [["3-0", ["a", "3"]]]]);
  });
});

test("inside MULTI/EXEC stream commands run in order, after the string writes before them, and EXEC waits for them", async () => {
  await withClient(async (c) => {
    const ids = (
      await c.pipeline([["MULTI"], ["XADD", "m", "*", "a", "1"], ["XADD", "m", "*", "b", "2"], ["XLEN", "m"], ["EXEC"]])
    )[4] as RespValue[];
    const [id1, id2, length] = ids as [string, string, number];
    const [ms1, seq1] = id1.split("-").map(BigInt) as [bigint, bigint];
    const [ms2, seq2] = id2.split("-").map(BigInt) as [bigint, bigint];
    assert.ok(ms2 > ms1 || (ms2 === ms1 && seq2 > seq1));
    assert.equal(length, 2);
    // A string write before a stream command in the same EXEC is applied before it.
    const exec = (await c.pipeline([["MULTI"], ["SET", "m2", "x"], ["XADD", "m2", "*", "a", "b"], ["XLEN", "m2"], ["EXEC"]]))[4];
    assert.deepEqual(exec, ["OK", WRONGTYPE, WRONGTYPE]);
    const reads = (
      await c.pipeline([
        ["MULTI"],
        ["XADD", "m3", "1", "f", "v"],
        ["XRANGE", "m3", "-", "+"],
        ["XREAD", "BLOCK", "0", "STREAMS", "m3", "$"],
        ["XREAD", "BLOCK", "0", "STREAMS", "m3", "0"],
        ["XADD", "m3", "0-0", "f", "v"],
        ["EXEC"],
      ])
    )[6];
    assert.deepEqual(reads, [
      "1-0",
      [["1-0", ["f", "v"]]],
      null,
      [["m3", [["1-0", ["f", "v"]]]]],
      new RespReplyError("ERR The ID specified in XADD must be greater than 0-0"),
    ]);
  });
});

test("a tenant sees its own streams under the names it gave, and a read-only token cannot write", async () => {
  const tokens = [
    { token: "token-of-tenant-a", tenant: "acme" },
    { token: "token-of-tenant-b", tenant: "other" },
    { token: "read-only-token-a", tenant: "acme", access: "read" },
  ];
  const server = await startRespServer({ tokens });
  const a = await RawClient.connect(server.respPort);
  const b = await RawClient.connect(server.respPort);
  const r = await RawClient.connect(server.respPort);
  try {
    assert.deepEqual(await a.call("XLEN", "s"), new RespReplyError("NOAUTH Authentication required."));
    assert.equal(await a.call("AUTH", "token-of-tenant-a"), "OK");
    assert.equal(await b.call("AUTH", "token-of-tenant-b"), "OK");
    assert.equal(await r.call("AUTH", "read-only-token-a"), "OK");
    await a.call("XADD", "s", "1", "f", "a");
    await b.call("XADD", "s", "2", "f", "b");
    assert.deepEqual(await a.call("XRANGE", "s", "-", "+"), [["1-0", ["f", "a"]]]);
    assert.deepEqual(await b.call("XREAD", "STREAMS", "s", "0"), [["s", [["2-0", ["f", "b"]]]]]);
    assert.deepEqual(await r.call("XRANGE", "s", "-", "+"), [["1-0", ["f", "a"]]]);
    const refused = await r.call("XADD", "s", "*", "f", "r");
    assert.ok(refused instanceof RespReplyError && refused.message.startsWith("NOPERM"));
    assert.ok(((await r.call("XGROUP", "CREATE", "s", "g", "0")) as RespReplyError).message.startsWith("NOPERM"));
    assert.equal(await a.call("XLEN", "s"), 1);
    const info = JSON.stringify(await a.call("XINFO", "STREAM", "s", "FULL"));
    assert.ok(!info.includes("acme") && !info.includes("k/"), info);
  } finally {
    a.close();
    b.close();
    r.close();
    await server.stop();
  }
});
