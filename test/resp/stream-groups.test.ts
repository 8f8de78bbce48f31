import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pairsOf, RespReplyError, type RespValue, withRespClient } from "../support/resp.js";

const INVALID_ID = new RespReplyError("ERR Invalid stream ID specified as stream command argument");
const NEEDS_KEY = new RespReplyError(
  "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
);

const withClient = withRespClient;

const mapOf = pairsOf;

test("XGROUP CREATE, SETID, DESTROY, CREATECONSUMER and DELCONSUMER, with Redis's errors", async () => {
  await withClient(async (c) => {
    assert.deepEqual(await c.call("XGROUP", "CREATE", "s", "g", "$"), NEEDS_KEY);
    assert.equal(await c.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"), "OK");
    assert.deepEqual(
      await c.call("XGROUP", "CREATE", "s", "g", "$"),
      new RespReplyError("BUSYGROUP Consumer Group name already exists"),
    );
    assert.equal(await c.call("SET", "str", "x"), "OK");
    assert.deepEqual(
      await c.call("XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"),
      new RespReplyError("WRONGTYPE Operation against a key holding the wrong kind of value"),
    );
    await c.call("XADD", "s", "1", "a", "1");
    await c.call("XADD", "s", "2", "b", "2");
    assert.equal(await c.call("XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "1"), "OK");
    const errors: [string[], RespReplyError][] = [
      [
        ["XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "-2"],
        new RespReplyError("ERR value for ENTRIESREAD must be positive or -1"),
      ],
      [
        ["XGROUP", "CREATE", "s", "g3", "0", "ENTRIESREAD", "x"],
        new RespReplyError("ERR value is not an integer or out of range"),
      ],
      [["XGROUP", "CREATE", "s", "g3", "-"], INVALID_ID],
      [
        ["XGROUP", "CREATE", "s", "g3", "0", "FOO"],
        new RespReplyError("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP."),
      ],
      [
        ["XGROUP", "SETID", "s", "g", "0", "MKSTREAM"],
        new RespReplyError("ERR unknown subcommand or wrong number of arguments for 'SETID'. Try XGROUP HELP."),
      ],
      [["XGROUP", "SETID", "s", "nog", "0"], new RespReplyError("NOGROUP No such consumer group 'nog' for key name 's'")],
      [["XGROUP", "SETID", "none", "g", "0"], NEEDS_KEY],
      [["XGROUP", "DESTROY", "none", "g"], NEEDS_KEY],
      [
        ["XGROUP", "CREATECONSUMER", "s", "nog", "c"],
        new RespReplyError("NOGROUP No such consumer group 'nog' for key name 's'"),
      ],
      [["XGROUP", "CREATECONSUMER", "none", "g", "c"], NEEDS_KEY],
      [["XGROUP", "DELCONSUMER", "s", "nog", "c"], new RespReplyError("NOGROUP No such consumer group 'nog' for key name 's'")],
      [["XGROUP", "FOO", "s"], new RespReplyError("ERR unknown subcommand 'FOO'. Try XGROUP HELP.")],
      [["XGROUP", "CREATE", "s"], new RespReplyError("ERR wrong number of arguments for 'xgroup|create' command")],
      [["XGROUP", "help", "xxx"], new RespReplyError("ERR wrong number of arguments for 'xgroup|help' command")],
      [["XGROUP", "DESTROY", "s", "g", "x"], new RespReplyError("ERR wrong number of arguments for 'xgroup|destroy' command")],
    ];
    for (const [args, error] of errors) assert.deepEqual(await c.call(...args), error, args.join(" "));
    const help = (await c.call("XGROUP", "HELP")) as string[];
    assert.equal(help.length, 17);
    assert.equal(help[0], "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert.equal(help[16], "    Prints this help.");

    let groups = (await c.call("XINFO", "GROUPS", "s")) as RespValue[];
    // A group made at `$` knows its entries-read counter (Redis 7.2 shows it; 7.0 a nil).
    assert.deepEqual(
      groups.map((g) => mapOf(g)),
      [
        { name: "g", consumers: 0, pending: 0, "last-delivered-id": "0-0", "entries-read": 0, lag: 2 },
        { name: "g2", consumers: 0, pending: 0, "last-delivered-id": "0-0", "entries-read": 1, lag: 1 },
      ],
    );
    assert.equal(await c.call("XGROUP", "SETID", "s", "g2", "1", "ENTRIESREAD", "1"), "OK");
    assert.equal(await c.call("XGROUP", "SETID", "s", "g", "+"), "OK");
    groups = (await c.call("XINFO", "GROUPS", "s")) as RespValue[];
    assert.equal(mapOf(groups[0] as RespValue)["last-delivered-id"], "18446744073709551615-18446744073709551615");
    assert.equal(mapOf(groups[1] as RespValue)["last-delivered-id"], "1-0");
    assert.equal(await c.call("XGROUP", "CREATECONSUMER", "s", "g", "alice"), 1);
    assert.equal(await c.call("XGROUP", "CREATECONSUMER", "s", "g", "alice"), 0);
    assert.equal(await c.call("XGROUP", "DELCONSUMER", "s", "g", "bob"), 0);
    assert.equal(await c.call("XGROUP", "DELCONSUMER", "s", "g", "alice"), 0);
    assert.equal(await c.call("XGROUP", "DESTROY", "s", "g"), 1);
    assert.equal(await c.call("XGROUP", "DESTROY", "s", "g"), 0);
    assert.equal(((await c.call("XINFO", "GROUPS", "s")) as RespValue[]).length, 1);
  });
});

test("XREADGROUP delivers new entries with >, reads a consumer's history with an ID, and refuses $", async () => {
  await withClient(async (c) => {
    await c.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
    await c.call("XADD", "s", "1", "a", "1");
    await c.call("XADD", "s", "2", "b", "2");
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "s", ">"), [
      ["s", [["1-0", ["a", "1"]]]],
    ]);
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"), [["s", [["2-0", ["b", "2"]]]]]);
    // Nothing new: nil, and the consumer is not created.
    assert.equal(await c.call("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", ">"), null);
    assert.deepEqual(
      ((await c.call("XINFO", "CONSUMERS", "s", "g")) as RespValue[]).map((x) => mapOf(x).name),
      ["alice", "bob"],
    );
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"), [["s", [["1-0", ["a", "1"]]]]]);
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"), [["s", []]]);
    // A pending entry deleted from the stream comes back in the history as its ID and a nil.
    await c.call("XADD", "s", "MAXLEN", "1", "3", "c", "3");
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">"), [["s", [["3-0", ["c", "3"]]]]]);
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", "0-1"), [
      [
        "s",
        [
          ["2-0", null],
          ["3-0", ["c", "3"]],
        ],
      ],
    ]);
    // NOACK delivers without a pending entry.
    await c.call("XADD", "s", "4", "d", "4");
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", "g", "dave", "NOACK", "STREAMS", "s", ">"), [
      ["s", [["4-0", ["d", "4"]]]],
    ]);
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", "0"), [["s", []]]);

    const errors: [string[], string][] = [
      [
        ["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "$"],
        "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
      ],
      [
        ["XREADGROUP", "GROUP", "nog", "a", "STREAMS", "s", ">"],
        "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option",
      ],
      [
        ["XREADGROUP", "GROUP", "g", "a", "STREAMS", "none", ">"],
        "NOGROUP No such key 'none' or consumer group 'g' in XREADGROUP with GROUP option",
      ],
      [["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "x"], INVALID_ID.message],
      [["XREADGROUP", "COUNT", "1", "NOACK", "STREAMS", "s", ">"], "ERR Missing GROUP option for XREADGROUP"],
      [
        ["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", "s", ">"],
        "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
      ],
      [["XREADGROUP", "GROUP", "g", "a", "COUNT", "x", "STREAMS", "s", ">"], "ERR value is not an integer or out of range"],
      [["XREADGROUP", "GROUP", "g", "a", "BLOCK", "-1", "STREAMS", "s", ">"], "ERR timeout is negative"],
      [["XREADGROUP", "GROUP", "g", "a", "BLOCK", "x", "STREAMS", "s", ">"], "ERR timeout is not an integer or out of range"],
      [["XREADGROUP", "GROUP", "g", "a", "FOO", "STREAMS", "s", ">"], "ERR syntax error"],
      [["XREADGROUP", "GROUP", "g", "a", "COUNT", "1", "FOO", "s"], "ERR syntax error"],
      [
        ["XREAD", "GROUP", "g", "a", "STREAMS", "s", ">"],
        "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
      ],
      [
        ["XREAD", "NOACK", "STREAMS", "s", "0"],
        "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
      ],
      [
        ["XREAD", "STREAMS", "s", ">"],
        "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
      ],
    ];
    for (const [args, message] of errors) assert.deepEqual(await c.call(...args), new RespReplyError(message), args.join(" "));
  });
});

test("XPENDING summarises and lists pending entries, by range, consumer and idle time", async () => {
  await withClient(async (c) => {
    await c.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
    assert.deepEqual(await c.call("XPENDING", "s", "g"), [0, null, null, null]);
    for (let i = 1; i <= 4; i++) await c.call("XADD", "s", String(i), "f", String(i));
    await c.call("XREADGROUP", "GROUP", "g", "alice", "COUNT", "2", "STREAMS", "s", ">");
    await c.call("XREADGROUP", "GROUP", "g", "bob", "STREAMS", "s", ">");
    assert.deepEqual(await c.call("XPENDING", "s", "g"), [
      4,
      "1-0",
      "4-0",
      [
        ["alice", "2"],
        ["bob", "2"],
      ],
    ]);
    const rows = (await c.call("XPENDING", "s", "g", "-", "+", "10")) as RespValue[][];
    assert.deepEqual(
      rows.map((r) => [r[0], r[1], r[3]]),
      [
        ["1-0", "alice", 1],
        ["2-0", "alice", 1],
        ["3-0", "bob", 1],
        ["4-0", "bob", 1],
      ],
    );
    assert.ok(rows.every((r) => typeof r[2] === "number" && r[2] >= 0));
    assert.deepEqual(
      ((await c.call("XPENDING", "s", "g", "-", "+", "10", "bob")) as RespValue[][]).map((r) => r[0]),
      ["3-0", "4-0"],
    );
    assert.deepEqual(await c.call("XPENDING", "s", "g", "-", "+", "10", "nobody"), []);
    assert.deepEqual(
      ((await c.call("XPENDING", "s", "g", "(1", "(4-0", "10")) as RespValue[][]).map((r) => r[0]),
      ["2-0", "3-0"],
    );
    assert.deepEqual(
      ((await c.call("XPENDING", "s", "g", "-", "+", "1")) as RespValue[][]).map((r) => r[0]),
      ["1-0"],
    );
    assert.deepEqual(await c.call("XPENDING", "s", "g", "-", "+", "0"), []);
    assert.deepEqual(await c.call("XPENDING", "s", "g", "-", "+", "-3"), []);
    await sleep(20);
    assert.deepEqual(await c.call("XPENDING", "s", "g", "IDLE", "99999999", "-", "+", "10"), []);
    assert.equal(((await c.call("XPENDING", "s", "g", "IDLE", "1", "-", "+", "10", "alice")) as RespValue[]).length, 2);
    const errors: [string[], string][] = [
      [["XPENDING", "s", "nog"], "NOGROUP No such key 's' or consumer group 'nog'"],
      [["XPENDING", "none", "g", "-", "+", "10"], "NOGROUP No such key 'none' or consumer group 'g'"],
      [["XPENDING", "s", "g", "-", "+"], "ERR syntax error"],
      [["XPENDING", "s", "g", "IDLE", "1", "-", "+"], "ERR syntax error"],
      [["XPENDING", "s", "g", "IDLE", "x", "-", "+", "10"], "ERR value is not an integer or out of range"],
      [["XPENDING", "s", "g", "-", "+", "x"], "ERR value is not an integer or out of range"],
      [["XPENDING", "s", "g", "x", "+", "10"], INVALID_ID.message],
      [["XPENDING", "s", "g", "(", "+", "10"], INVALID_ID.message],
      [["XPENDING", "s", "g", "IDLE", "1", "-", "+", "10", "alice", "extra"], "ERR syntax error"],
    ];
    for (const [args, message] of errors) assert.deepEqual(await c.call(...args), new RespReplyError(message), args.join(" "));
  });
});

test("XACK acknowledges pending entries, and answers 0 on no key or group whatever the IDs", async () => {
  await withClient(async (c) => {
    await c.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
    await c.call("XADD", "s", "1", "f", "v");
    await c.call("XADD", "s", "2", "f", "v");
    await c.call("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">");
    assert.deepEqual(await c.call("XACK", "s", "g", "1-0", "invalid-id"), INVALID_ID);
    assert.equal(await c.call("XACK", "s", "g", "1-0"), 1);
    assert.equal(await c.call("XACK", "s", "g", "1-0"), 0);
    assert.equal(await c.call("XACK", "s", "g", "1-0", "2", "3"), 1);
    assert.equal(await c.call("XACK", "s", "nog", "invalid-id"), 0);
    assert.equal(await c.call("XACK", "none", "g", "invalid-id"), 0);
    assert.deepEqual(await c.call("XPENDING", "s", "g"), [0, null, null, null]);
    // A pipeline that creates a group and acks in it: the ack is applied after the create.
    const replies = await c.pipeline([
      ["XADD", "p", "1", "f", "v"],
      ["XGROUP", "CREATE", "p", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "p", ">"],
      ["XACK", "p", "g", "1-0"],
      ["XGROUP", "CREATECONSUMER", "p", "g", "d"],
      ["XCLAIM", "p", "g", "d", "0", "1-0"],
      ["XPENDING", "p", "g"],
    ]);
    assert.deepEqual(replies, ["1-0", "OK", [["p", [["1-0", ["f", "v"]]]]], 1, 1, [], [0, null, null, null]]);
  });
});

test("XCLAIM moves pending entries, with IDLE, TIME, RETRYCOUNT, FORCE, JUSTID and LASTID", async () => {
  await withClient(async (c) => {
    for (let i = 1; i <= 3; i++) await c.call("XADD", "x", `${i}-0`, "f", String(i));
    await c.call("XGROUP", "CREATE", "x", "grp", "0");
    await c.call("XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "x", ">");
    await sleep(30);
    // Idle less than asked: nothing moves.
    assert.deepEqual(await c.call("XCLAIM", "x", "grp", "bob", "100000", "1-0"), []);
    assert.deepEqual(await c.call("XCLAIM", "x", "grp", "bob", "10", "1-0"), [["1-0", ["f", "1"]]]);
    let rows = (await c.call("XPENDING", "x", "grp", "-", "+", "10")) as RespValue[][];
    assert.deepEqual(rows[0]?.slice(0, 2).concat(rows[0]?.[3] as RespValue), ["1-0", "bob", 2]);
    // JUSTID leaves the delivery count alone; RETRYCOUNT sets it; IDLE sets the idle time.
    assert.deepEqual(await c.call("XCLAIM", "x", "grp", "carol", "0", "1-0", "JUSTID"), ["1-0"]);
    assert.deepEqual(await c.call("XCLAIM", "x", "grp", "carol", "0", "2-0", "RETRYCOUNT", "7", "IDLE", "5000", "JUSTID"), [
      "2-0",
    ]);
    rows = (await c.call("XPENDING", "x", "grp", "-", "+", "10", "carol")) as RespValue[][];
    assert.deepEqual(
      rows.map((r) => [r[0], r[3]]),
      [
        ["1-0", 2],
        ["2-0", 7],
      ],
    );
    assert.ok((rows[1]?.[2] as number) >= 5000);
    assert.deepEqual(await c.call("XCLAIM", "x", "grp", "carol", "0", "3-0", "TIME", "0", "JUSTID"), ["3-0"]);
    // A deleted entry is dropped from the PEL, not claimed.
    await c.call("XDEL", "x", "3-0");
    assert.deepEqual(await c.call("XCLAIM", "x", "grp", "bob", "0", "3-0"), []);
    assert.deepEqual(
      ((await c.call("XPENDING", "x", "grp", "-", "+", "10")) as RespValue[][]).map((r) => r[0]),
      ["1-0", "2-0"],
    );
    // FORCE makes an entry of the stream pending even when no one had it.
    await c.call("XADD", "x", "4-0", "f", "4");
    assert.deepEqual(await c.call("XCLAIM", "x", "grp", "dave", "0", "4-0", "FORCE", "LASTID", "9-0"), [["4-0", ["f", "4"]]]);
    assert.equal(mapOf(((await c.call("XINFO", "GROUPS", "x")) as RespValue[])[0] as RespValue)["last-delivered-id"], "9-0");
    const errors: [string[], string][] = [
      [["XCLAIM", "x", "nog", "bob", "0", "1-0"], "NOGROUP No such key 'x' or consumer group 'nog'"],
      [["XCLAIM", "none", "grp", "bob", "x", "1-0"], "NOGROUP No such key 'none' or consumer group 'grp'"],
      [["XCLAIM", "x", "grp", "bob", "x", "1-0"], "ERR Invalid min-idle-time argument for XCLAIM"],
      [["XCLAIM", "x", "grp", "bob", "0", "1-0", "FOO"], "ERR Unrecognized XCLAIM option 'FOO'"],
      [["XCLAIM", "x", "grp", "bob", "0", "1-0", "FORCE", "2-0"], "ERR Unrecognized XCLAIM option '2-0'"],
      [["XCLAIM", "x", "grp", "bob", "0", "1-0", "IDLE", "x"], "ERR Invalid IDLE option argument for XCLAIM"],
      [["XCLAIM", "x", "grp", "bob", "0", "1-0", "TIME", "x"], "ERR Invalid TIME option argument for XCLAIM"],
      [["XCLAIM", "x", "grp", "bob", "0", "1-0", "RETRYCOUNT", "x"], "ERR Invalid RETRYCOUNT option argument for XCLAIM"],
      [["XCLAIM", "x", "grp", "bob", "0", "1-0", "LASTID", "x"], INVALID_ID.message],
    ];
    for (const [args, message] of errors) assert.deepEqual(await c.call(...args), new RespReplyError(message), args.join(" "));
  });
});

test("XAUTOCLAIM iterates the PEL with a cursor and reports deleted entries", async () => {
  await withClient(async (c) => {
    for (let i = 1; i <= 5; i++) await c.call("XADD", "x", `${i}-0`, "f", String(i));
    await c.call("XGROUP", "CREATE", "x", "grp", "0");
    await c.call("XREADGROUP", "GROUP", "grp", "alice", "STREAMS", "x", ">");
    assert.deepEqual(await c.call("XAUTOCLAIM", "x", "grp", "bob", "0", "-", "COUNT", "2"), [
      "3-0",
      [
        ["1-0", ["f", "1"]],
        ["2-0", ["f", "2"]],
      ],
      [],
    ]);
    await c.call("XDEL", "x", "3-0");
    assert.deepEqual(await c.call("XAUTOCLAIM", "x", "grp", "bob", "0", "3-0", "COUNT", "2"), [
      "5-0",
      [["4-0", ["f", "4"]]],
      ["3-0"],
    ]);
    assert.deepEqual(await c.call("XAUTOCLAIM", "x", "grp", "bob", "0", "(4-0", "JUSTID"), ["0-0", ["5-0"], []]);
    assert.deepEqual(await c.call("XAUTOCLAIM", "x", "grp", "bob", "100000", "0"), ["0-0", [], []]);
    const errors: [string[], string][] = [
      [["XAUTOCLAIM", "key", "group", "consumer", "1", "1", "COUNT", "0"], "ERR COUNT must be > 0"],
      [["XAUTOCLAIM", "x", "grp", "bob", "0", "3-0", "COUNT", "8070450532247928833"], "ERR COUNT must be > 0"],
      [["XAUTOCLAIM", "x", "grp", "bob", "x", "0"], "ERR Invalid min-idle-time argument for XAUTOCLAIM"],
      [["XAUTOCLAIM", "x", "grp", "bob", "0", "x"], INVALID_ID.message],
      [
        ["XAUTOCLAIM", "x", "grp", "bob", "0", "(18446744073709551615-18446744073709551615"],
        "ERR invalid start ID for the interval",
      ],
      [["XAUTOCLAIM", "x", "grp", "bob", "0", "0", "FOO"], "ERR syntax error"],
      [["XAUTOCLAIM", "x", "nog", "bob", "0", "0"], "NOGROUP No such key 'x' or consumer group 'nog'"],
    ];
    for (const [args, message] of errors) assert.deepEqual(await c.call(...args), new RespReplyError(message), args.join(" "));
  });
});

test("XINFO GROUPS, CONSUMERS and STREAM FULL show groups, consumers and their pending entries", async () => {
  await withClient(async (c) => {
    for (const id of ["100", "101", "102", "103", "104"]) await c.call("XADD", "x", id, "f", id);
    await c.call("XGROUP", "CREATE", "x", "g1", "0");
    await c.call("XGROUP", "CREATE", "x", "g2", "0");
    await c.call("XREADGROUP", "GROUP", "g1", "Alice", "COUNT", "1", "STREAMS", "x", ">");
    await c.call("XREADGROUP", "GROUP", "g1", "Bob", "COUNT", "1", "STREAMS", "x", ">");
    await c.call("XREADGROUP", "GROUP", "g1", "Bob", "NOACK", "COUNT", "1", "STREAMS", "x", ">");
    await c.call("XREADGROUP", "GROUP", "g2", "Charlie", "COUNT", "4", "STREAMS", "x", ">");
    await c.call("XDEL", "x", "103");
    const full = mapOf(await c.call("XINFO", "STREAM", "x", "FULL"));
    assert.equal(((await c.call("XINFO", "STREAM", "x", "FULL")) as RespValue[]).length, 18);
    assert.equal(full.length, 4);
    assert.deepEqual(
      (full.entries as RespValue[][]).map((e) => e[0]),
      ["100-0", "101-0", "102-0", "104-0"],
    );
    const [g1, g2] = (full.groups as RespValue[]).map(mapOf) as [Record<string, RespValue>, Record<string, RespValue>];
    assert.equal(g1.name, "g1");
    assert.equal(g1["pel-count"], 2);
    assert.deepEqual(
      (g1.pending as RespValue[][]).map((p) => [p[0], p[1], p[3]]),
      [
        ["100-0", "Alice", 1],
        ["101-0", "Bob", 1],
      ],
    );
    const consumers = (g1.consumers as RespValue[]).map(mapOf);
    assert.deepEqual(
      consumers.map((x) => [x.name, x["pel-count"]]),
      [
        ["Alice", 1],
        ["Bob", 1],
      ],
    );
    assert.equal(((consumers[0] as Record<string, RespValue>).pending as RespValue[][])[0]?.[0], "100-0");
    assert.ok(typeof (consumers[0] as Record<string, RespValue>)["seen-time"] === "number");
    assert.equal(g2.name, "g2");
    assert.deepEqual(
      (((g2.consumers as RespValue[]).map(mapOf)[0] as Record<string, RespValue>).pending as RespValue[][]).map((p) => p[0]),
      ["100-0", "101-0", "102-0", "103-0"],
    );
    const one = mapOf(await c.call("XINFO", "STREAM", "x", "FULL", "COUNT", "1"));
    assert.deepEqual(one.entries, [["100-0", ["f", "100"]]]);
    assert.equal((((one.groups as RespValue[]).map(mapOf)[1] as Record<string, RespValue>).pending as RespValue[]).length, 1);

    // A deletion past the last delivered entry makes the lag unknown, as in Redis.
    const groups = ((await c.call("XINFO", "GROUPS", "x")) as RespValue[]).map(mapOf);
    assert.deepEqual(groups[0], {
      name: "g1",
      consumers: 2,
      pending: 2,
      "last-delivered-id": "102-0",
      "entries-read": 3,
      lag: null,
    });
    const listed = ((await c.call("XINFO", "CONSUMERS", "x", "g1")) as RespValue[]).map(mapOf);
    assert.deepEqual(
      listed.map((x) => [x.name, x.pending]),
      [
        ["Alice", 1],
        ["Bob", 1],
      ],
    );
    assert.deepEqual(Object.keys(listed[0] as object), ["name", "pending", "idle"]);
    assert.deepEqual(
      await c.call("XINFO", "CONSUMERS", "x", "nog"),
      new RespReplyError("NOGROUP No such consumer group 'nog' for key name 'x'"),
    );
    assert.deepEqual(await c.call("XINFO", "GROUPS", "none"), new RespReplyError("ERR no such key"));
    assert.deepEqual(
      await c.call("XINFO", "STREAM", "x", "FULL", "COUNT", "x"),
      new RespReplyError("ERR value is not an integer or out of range"),
    );
  });
});

test("consumer group errors and replies name keys as the tenant named them", async () => {
  const tokens = [{ token: "token-of-tenant-a", tenant: "acme" }];
  await withClient(
    async (c) => {
      assert.equal(await c.call("AUTH", "token-of-tenant-a"), "OK");
      await c.call("XGROUP", "CREATE", "orders", "g", "$", "MKSTREAM");
      await c.call("XADD", "orders", "1", "f", "v");
      const replies = await c.pipeline([
        ["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "orders", ">"],
        ["XPENDING", "orders", "nog"],
        ["XCLAIM", "orders", "nog", "c", "0", "1-0"],
        ["XAUTOCLAIM", "orders", "nog", "c", "0", "0"],
        ["XGROUP", "SETID", "orders", "nog", "0"],
        ["XGROUP", "CREATECONSUMER", "orders", "nog", "c"],
        ["XINFO", "CONSUMERS", "orders", "nog"],
        ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "orders", ">"],
        ["XINFO", "STREAM", "orders", "FULL"],
        ["XINFO", "GROUPS", "orders"],
      ]);
      const text = JSON.stringify(replies);
      assert.ok(!text.includes("acme") && !text.includes("k/"), text);
      assert.deepEqual(
        replies[0],
        new RespReplyError("NOGROUP No such key 'orders' or consumer group 'nog' in XREADGROUP with GROUP option"),
      );
      assert.deepEqual(replies[2], new RespReplyError("NOGROUP No such key 'orders' or consumer group 'nog'"));
      assert.deepEqual(replies[7], [["orders", [["1-0", ["f", "v"]]]]]);
    },
    { tokens },
  );
});

test("group and consumer names are binary: bytes that are not UTF-8 come back as they went", async () => {
  await withClient(async (c) => {
    const group = Buffer.from([0xff, 0x67]);
    const consumer = Buffer.from([0xc3, 0x28, 0x80]);
    const latin1 = (b: Buffer) => b.toString("latin1");
    assert.equal(await c.call("XGROUP", "CREATE", "b", group, "$", "MKSTREAM"), "OK");
    await c.call("XADD", "b", "1", "f", "v");
    assert.deepEqual(await c.call("XREADGROUP", "GROUP", group, consumer, "STREAMS", "b", ">"), [["b", [["1-0", ["f", "v"]]]]]);
    assert.deepEqual(await c.call("XPENDING", "b", group), [1, "1-0", "1-0", [[latin1(consumer), "1"]]]);
    assert.equal(((await c.call("XPENDING", "b", group, "-", "+", "1", consumer)) as RespValue[][])[0]?.[1], latin1(consumer));
    assert.equal(mapOf(((await c.call("XINFO", "GROUPS", "b")) as RespValue[])[0] as RespValue).name, latin1(group));
    assert.equal(mapOf(((await c.call("XINFO", "CONSUMERS", "b", group)) as RespValue[])[0] as RespValue).name, latin1(consumer));
    assert.deepEqual(
      await c.call("XPENDING", "b", Buffer.from([0xfe])),
      new RespReplyError(`NOGROUP No such key 'b' or consumer group '${latin1(Buffer.from([0xfe]))}'`),
    );
  });
});
