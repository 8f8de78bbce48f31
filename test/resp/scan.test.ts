import assert from "node:assert/strict";
import { test } from "node:test";
import { dataPrefix } from "../../src/server/namespace.js";
import { SCAN_CURSORS_MAX } from "../../src/server/resp/scan-cursor.js";
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

/** Writes keys `key:0` … `key:<n-1>` (value = index) in one record, as Redis's `populate` does with DEBUG. */
async function populate(server: RespTestServer, n: number, name = (i: number) => `key:${i}`): Promise<void> {
  const prefix = dataPrefix("default");
  const ops = Array.from({ length: n }, (_, i) => ({ type: "put" as const, key: prefix + name(i), value: String(i) }));
  await server.server.store.keyspace.write(ops);
}

/** Every name a whole SCAN returns (with repeats); `between` runs after each call but the last. */
async function scanAll(client: RawClient, options: string[] = [], between?: () => Promise<void>): Promise<string[]> {
  const names: string[] = [];
  let cursor = "0";
  for (;;) {
    const reply = (await client.call("SCAN", cursor, ...options)) as [string, string[]];
    cursor = reply[0];
    names.push(...reply[1]);
    if (cursor === "0") return names;
    await between?.();
  }
}

function error(message: string): RespReplyError {
  return new RespReplyError(message);
}

test("SCAN returns every key, with the default COUNT, COUNT 5 and MATCH, as scan.tcl checks", async () => {
  await withClient(async (client, server) => {
    await populate(server, 1000);
    assert.equal(new Set(await scanAll(client)).size, 1000);
    assert.equal(new Set(await scanAll(client, ["count", "5"])).size, 1000);
    const matched = new Set(await scanAll(client, ["match", "key:1??"]));
    assert.equal(matched.size, 100);
    for (const name of matched) assert.match(name, /^key:1\d\d$/);
    const first = (await client.call("SCAN", "0", "COUNT", "7")) as [string, string[]];
    assert.equal(first[1].length, 7);
    assert.notEqual(first[0], "0");
    const all = (await client.call("SCAN", "0", "COUNT", "5000")) as [string, string[]];
    assert.deepEqual([all[0], all[1].length], ["0", 1000]);
  });
});

test("SCAN TYPE keeps keys of that type only, in any case, with MATCH and COUNT", async () => {
  await withClient(async (client, server) => {
    await populate(server, 200);
    await server.server.store.streams.add(`${dataPrefix("default")}key:stream`, { f: "v" });
    assert.deepEqual(await scanAll(client, ["type", "list"]), []);
    assert.equal(new Set(await scanAll(client, ["type", "string"])).size, 200);
    assert.equal(new Set(await scanAll(client, ["TYPE", "STRING", "MATCH", "key:*", "COUNT", "10"])).size, 200);
    assert.deepEqual(await scanAll(client, ["type", "stream", "count", "3"]), ["key:stream"]);
    assert.deepEqual(await scanAll(client, ["type", "nosuchtype"]), []);
  });
});

test("SCAN refuses a cursor, COUNT or option Redis refuses, with Redis's texts", async () => {
  await withClient(async (client) => {
    await client.call("SET", "k", "v");
    for (const cursor of ["x", " 1", "1 ", "-", "+", "0x1", "18446744073709551616"]) {
      assert.deepEqual(await client.call("SCAN", cursor), error("ERR invalid cursor"), cursor);
    }
    // As C's strtoul reads them: empty is 0, a sign is allowed, a negative number wraps around.
    for (const cursor of ["", "+0", "-0", "00"]) assert.deepEqual(await client.call("SCAN", cursor), ["0", ["k"]], cursor);
    assert.deepEqual(await client.call("SCAN", "x", "COUNT", "0"), error("ERR invalid cursor"));
    assert.deepEqual(await client.call("SCAN", "0", "COUNT", "0"), error("ERR syntax error"));
    assert.deepEqual(await client.call("SCAN", "0", "COUNT", "-1"), error("ERR syntax error"));
    assert.deepEqual(await client.call("SCAN", "0", "COUNT", "x"), error("ERR value is not an integer or out of range"));
    assert.deepEqual(await client.call("SCAN", "0", "COUNT", "x", "FOO"), error("ERR value is not an integer or out of range"));
    assert.deepEqual(await client.call("SCAN", "0", "COUNT"), error("ERR syntax error"));
    assert.deepEqual(await client.call("SCAN", "0", "MATCH"), error("ERR syntax error"));
    assert.deepEqual(await client.call("SCAN", "0", "TYPE"), error("ERR syntax error"));
    assert.deepEqual(await client.call("SCAN", "0", "FOO", "bar"), error("ERR syntax error"));
    assert.deepEqual(await client.call("SCAN"), error("ERR wrong number of arguments for 'scan' command"));
    assert.deepEqual(
      await client.call("SCAN", "0", "COUNT", "99999999999999999999"),
      error("ERR value is not an integer or out of range"),
    );
    assert.deepEqual(await client.call("SCAN", "0", "COUNT", "9223372036854775807"), ["0", ["k"]]);
  });
});

test("SCAN misses no key that exists for the whole scan while other keys are written and deleted", async () => {
  await withClient(async (client, server) => {
    await populate(server, 100);
    const writer = await RawClient.connect(server.respPort);
    try {
      let round = 0;
      const names = await scanAll(client, ["COUNT", "7"], async () => {
        round++;
        const commands: string[][] = [];
        // Keys before, among and after the scanned ones come and go, in this client and another.
        for (let j = 0; j < 10; j++) commands.push(["SET", `addedkey:${(round * 37 + j * 101) % 1000}`, "foo"]);
        commands.push(["SET", `a${round}`, "x"], ["SET", `key:${round}x`, "y"], ["DEL", `a${round - 1}`, `key:${round - 1}x`]);
        const pending = writer.pipeline(commands);
        if (round % 2 === 0) await pending;
      });
      const original = new Set(names.filter((name) => /^key:\d+$/.test(name)));
      assert.equal(original.size, 100);
    } finally {
      writer.close();
    }
  });
});

test("a SCAN cursor works on another connection and stays good after the endpoint forgets it", async () => {
  await withClient(async (client, server) => {
    await populate(server, 300);
    const other = await RawClient.connect(server.respPort);
    try {
      const names: string[] = [];
      let cursor = "0";
      let calls = 0;
      do {
        const reply = (await (calls % 2 === 0 ? client : other).call("SCAN", cursor, "COUNT", "20")) as [string, string[]];
        cursor = reply[0];
        names.push(...reply[1]);
        calls++;
        if (calls === 3) {
          // So many other scans that this one's cursor is forgotten: it resumes at the bytes its number keeps.
          const flood = Array.from({ length: SCAN_CURSORS_MAX + 10 }, () => ["SCAN", "0", "COUNT", "1"]);
          await other.pipeline(flood);
        }
      } while (cursor !== "0");
      assert.equal(new Set(names).size, 300);
      assert.ok(names.length > 300, "the forgotten cursor resumed before its key, repeating some");
      // The same cursor, sent again, answers the same keys (a client may retry).
      const [next] = (await client.call("SCAN", "0", "COUNT", "50")) as [string, string[]];
      const again = await Promise.all([client.call("SCAN", next, "COUNT", "10"), other.call("SCAN", next, "COUNT", "10")]);
      const [mine, theirs] = again.map((reply) => (reply as [string, string[]])[1]);
      assert.deepEqual(mine, theirs);
    } finally {
      other.close();
    }
  });
});

test("a cursor the endpoint never issued resumes at the key bytes its high 32 bits hold", async () => {
  await withClient(async (client, server) => {
    await populate(server, 26, (i) => `${String.fromCharCode(0x61 + i)}key`);
    // "m" in the top byte of the high 32 bits, then a token no scan was given.
    const cursor = ((BigInt("m".charCodeAt(0)) << 56n) | 12345n).toString();
    const reply = (await client.call("SCAN", cursor, "COUNT", "100")) as [string, string[]];
    assert.equal(reply[0], "0");
    assert.deepEqual(
      reply[1],
      [..."mnopqrstuvwxyz"].map((c) => `${c}key`),
    );
  });
});
