import assert from "node:assert/strict";
import { test } from "node:test";
import { dataPrefix } from "../../src/server/namespace.js";
import { RawClient, RespReplyError, type RespTestServer, type RespValue, startRespServer } from "../support/resp.js";

/** A server with the Redis endpoint, one client on it, both closed after `body`. */
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

/** Adds a stream entry at key `name` of `tenant` through the store (the endpoint's stream commands are another family's). */
async function addStreamEntry(server: RespTestServer, name: string, tenant = "default"): Promise<void> {
  await server.server.store.streams.add(dataPrefix(tenant) + name, { f: "v" });
}

function error(message: string): RespReplyError {
  return new RespReplyError(message);
}

function sorted(value: RespValue): string[] {
  assert.ok(Array.isArray(value));
  return (value as string[]).slice().sort();
}

/** Every name a whole SCAN returns (with repeats), with `options` on each call. */
async function scanAll(client: RawClient, ...options: string[]): Promise<string[]> {
  const names: string[] = [];
  let cursor = "0";
  do {
    const reply = (await client.call("SCAN", cursor, ...options)) as [string, string[]];
    cursor = reply[0];
    names.push(...reply[1]);
  } while (cursor !== "0");
  return names;
}

test("DEL and UNLINK delete what exists and count each key once; nothing to delete logs nothing", async () => {
  await withClient(async (client, server) => {
    assert.deepEqual(
      await client.pipeline([
        ["SET", "foo1", "a"],
        ["SET", "foo2", "b"],
        ["SET", "foo3", "c"],
      ]),
      ["OK", "OK", "OK"],
    );
    assert.equal(await client.call("DEL", "foo1", "foo2", "foo3", "foo4"), 3);
    assert.equal(await client.call("GET", "foo1"), null);
    assert.equal(await client.call("SET", "x", "1"), "OK");
    assert.equal(await client.call("DEL", "x", "x"), 1);
    assert.equal(await client.call("SET", "y", "1"), "OK");
    assert.equal(await client.call("UNLINK", "y", "nosuch"), 1);
    const lsn = server.server.store.stats().appliedLsn;
    assert.equal(await client.call("DEL", "nosuch", "y"), 0);
    assert.equal(server.server.store.stats().appliedLsn, lsn);
    assert.deepEqual(await client.call("DEL"), error("ERR wrong number of arguments for 'del' command"));
    assert.deepEqual(await client.call("UNLINK"), error("ERR wrong number of arguments for 'unlink' command"));
  });
});

test("EXISTS and TOUCH count every key named, repeats included; TYPE names string, stream or none", async () => {
  await withClient(async (client, server) => {
    await client.call("SET", "newkey", "test");
    await client.call("SET", "emptykey", "");
    await addStreamEntry(server, "s");
    assert.equal(await client.call("EXISTS", "newkey"), 1);
    assert.equal(await client.call("EXISTS", "newkey", "newkey", "nosuch", "emptykey", "s"), 4);
    assert.equal(await client.call("TOUCH", "newkey", "newkey", "nosuch", "s"), 3);
    assert.equal(await client.call("TYPE", "newkey"), "string");
    assert.equal(await client.call("TYPE", "s"), "stream");
    assert.equal(await client.call("TYPE", "nosuch"), "none");
    assert.equal(await client.call("DEL", "newkey", "emptykey", "s"), 3);
    assert.equal(await client.call("EXISTS", "newkey", "emptykey", "s"), 0);
    assert.equal(await client.call("TYPE", "s"), "none");
    assert.deepEqual(await client.call("TYPE"), error("ERR wrong number of arguments for 'type' command"));
    assert.deepEqual(await client.call("EXISTS"), error("ERR wrong number of arguments for 'exists' command"));
  });
});

test("KEYS returns the names a pattern matches, strings and streams, binary names included", async () => {
  await withClient(async (client, server) => {
    for (const key of ["key_x", "key_y", "key_z", "foo_a", "foo_b", "foo_c"]) await client.call("SET", key, "hello");
    await addStreamEntry(server, "foo_s");
    assert.deepEqual(sorted(await client.call("KEYS", "foo*")), ["foo_a", "foo_b", "foo_c", "foo_s"]);
    assert.deepEqual(sorted(await client.call("KEYS", "*")), ["foo_a", "foo_b", "foo_c", "foo_s", "key_x", "key_y", "key_z"]);
    assert.deepEqual(sorted(await client.call("KEYS", "*_[ab]")), ["foo_a", "foo_b"]);
    assert.deepEqual(sorted(await client.call("KEYS", "key_?")), ["key_x", "key_y", "key_z"]);
    assert.deepEqual(await client.call("KEYS", "key_x"), ["key_x"]);
    assert.deepEqual(await client.call("KEYS", "nomatch*"), []);
    assert.equal(await client.call("DBSIZE"), 7);
    const binary = Buffer.from([0xff, 0x00, 0x2a, 0x80]);
    await client.call("SET", binary, "v");
    assert.deepEqual(await client.call("KEYS", Buffer.from([0xff, 0x00, 0x5c, 0x2a, 0x3f])), [binary.toString("latin1")]);
    assert.deepEqual(await client.call("KEYS"), error("ERR wrong number of arguments for 'keys' command"));
  });
});

test("KEYS with a long key twice, and a pattern with many stars, as Redis's regression tests", async () => {
  await withClient(async (client) => {
    await client.call("SET", "dlskeriewrioeuwqoirueioqwrueoqwrueqw", "test");
    await client.call("KEYS", "*");
    assert.deepEqual(await client.call("KEYS", "*"), ["dlskeriewrioeuwqoirueioqwrueoqwrueqw"]);
    await client.call("FLUSHDB");
    await client.call("SET", "a".repeat(40), "1");
    const started = Date.now();
    assert.deepEqual(await client.call("KEYS", `${"a*".repeat(20)}b`), []);
    assert.ok(Date.now() - started < 5000);
  });
});

test("DBSIZE counts strings and streams; RANDOMKEY picks among them, or answers nil", async () => {
  await withClient(async (client, server) => {
    assert.equal(await client.call("DBSIZE"), 0);
    assert.equal(await client.call("RANDOMKEY"), null);
    await client.call("SET", "foo", "x");
    await client.call("SET", "bar", "y");
    const seen = new Set<RespValue>();
    for (let i = 0; i < 100 && seen.size < 2; i++) seen.add(await client.call("RANDOMKEY"));
    assert.deepEqual([...seen].sort(), ["bar", "foo"]);
    await addStreamEntry(server, "s");
    assert.equal(await client.call("DBSIZE"), 3);
    await client.call("FLUSHDB");
    await client.call("SET", "x", "10");
    await client.call("DEL", "x");
    assert.equal(await client.call("RANDOMKEY"), null);
    assert.deepEqual(await client.call("DBSIZE", "x"), error("ERR wrong number of arguments for 'dbsize' command"));
  });
});

test("RENAME and RENAMENX move a value, as keyspace.tcl checks", async () => {
  await withClient(async (client) => {
    await client.call("SET", "mykey", "hello");
    assert.equal(await client.call("RENAME", "mykey", "mykey1"), "OK");
    assert.equal(await client.call("RENAME", "mykey1", "mykey2"), "OK");
    assert.equal(await client.call("GET", "mykey2"), "hello");
    assert.equal(await client.call("EXISTS", "mykey", "mykey1"), 0);
    await client.call("SET", "mykey", "a");
    await client.call("SET", "mykey2", "b");
    assert.equal(await client.call("RENAME", "mykey2", "mykey"), "OK");
    assert.deepEqual(
      await client.pipeline([
        ["GET", "mykey"],
        ["EXISTS", "mykey2"],
      ]),
      ["b", 0],
    );
    await client.call("DEL", "mykey", "mykey2");
    await client.call("SET", "mykey", "foobar");
    assert.equal(await client.call("RENAMENX", "mykey", "mykey2"), 1);
    assert.deepEqual(
      await client.pipeline([
        ["GET", "mykey2"],
        ["EXISTS", "mykey"],
      ]),
      ["foobar", 0],
    );
    await client.call("SET", "mykey", "foo");
    await client.call("SET", "mykey2", "bar");
    assert.equal(await client.call("RENAMENX", "mykey", "mykey2"), 0);
    assert.deepEqual(
      await client.pipeline([
        ["GET", "mykey"],
        ["GET", "mykey2"],
      ]),
      ["foo", "bar"],
    );
  });
});

test("RENAME refuses a missing source with Redis's error, and a key renamed to itself is left as it is", async () => {
  await withClient(async (client) => {
    assert.deepEqual(await client.call("RENAME", "nokey", "foobar"), error("ERR no such key"));
    assert.deepEqual(await client.call("RENAMENX", "nokey", "foobar"), error("ERR no such key"));
    assert.deepEqual(await client.call("RENAME", "nokey", "nokey"), error("ERR no such key"));
    await client.call("SET", "mykey", "foo");
    assert.equal(await client.call("RENAME", "mykey", "mykey"), "OK");
    assert.equal(await client.call("RENAMENX", "mykey", "mykey"), 0);
    assert.equal(await client.call("GET", "mykey"), "foo");
    assert.deepEqual(await client.call("RENAME", "mykey"), error("ERR wrong number of arguments for 'rename' command"));
  });
});

test("RENAME of a string over a stream replaces the stream", async () => {
  await withClient(async (client, server) => {
    await addStreamEntry(server, "s");
    await client.call("SET", "k", "v");
    assert.equal(await client.call("RENAME", "k", "s"), "OK");
    assert.deepEqual(
      await client.pipeline([
        ["TYPE", "s"],
        ["GET", "s"],
        ["EXISTS", "k"],
      ]),
      ["string", "v", 0],
    );
  });
});

test("COPY copies a string, replaces only with REPLACE, and takes DB 0 only", async () => {
  await withClient(async (client) => {
    await client.call("SET", "mykey", "foobar");
    assert.equal(await client.call("COPY", "mykey", "mynewkey"), 1);
    assert.deepEqual(await client.pipeline([["GET", "mynewkey"], ["DBSIZE"]]), ["foobar", 2]);
    await client.call("SET", "mykey2", "hello");
    assert.equal(await client.call("COPY", "mykey2", "mynewkey"), 0);
    assert.equal(await client.call("COPY", "mykey2", "mynewkey", "db", "0", "REPLACE"), 1);
    assert.equal(await client.call("GET", "mynewkey"), "hello");
    await client.call("SET", "mynewkey", "hoge");
    assert.equal(await client.call("GET", "mykey2"), "hello");
    assert.equal(await client.call("COPY", "nosuch", "mynewkey", "REPLACE"), 0);
    assert.deepEqual(await client.call("COPY", "mykey", "mykey"), error("ERR source and destination objects are the same"));
    assert.deepEqual(
      await client.call("COPY", "mykey", "x", "DB", "notanumber"),
      error("ERR value is not an integer or out of range"),
    );
    assert.deepEqual(await client.call("COPY", "mykey", "x", "DB", "1"), error("ERR DB index is out of range"));
    assert.deepEqual(
      await client.call("COPY", "mykey", "x", "DB", "99999999999"),
      error("ERR value is out of range, value must between -2147483648 and 2147483647"),
    );
    assert.deepEqual(await client.call("COPY", "mykey", "x", "DB"), error("ERR syntax error"));
    assert.deepEqual(await client.call("COPY", "mykey", "x", "foo"), error("ERR syntax error"));
    assert.deepEqual(await client.call("COPY", "mykey"), error("ERR wrong number of arguments for 'copy' command"));
    assert.equal(await client.call("EXISTS", "x"), 0);
  });
});

test("COPY of a stream is refused; MOVE answers as a Redis with one database", async () => {
  await withClient(async (client, server) => {
    await addStreamEntry(server, "s");
    assert.deepEqual(await client.call("COPY", "s", "t"), error("ERR COPY of a stream key is not supported"));
    assert.equal(await client.call("EXISTS", "t"), 0);
    await client.call("SET", "mykey", "v");
    assert.deepEqual(await client.call("MOVE", "mykey", "0"), error("ERR source and destination objects are the same"));
    assert.deepEqual(await client.call("MOVE", "mykey", "10"), error("ERR DB index is out of range"));
    assert.deepEqual(await client.call("MOVE", "mykey", "notanumber"), error("ERR value is not an integer or out of range"));
  });
});

test("FLUSHDB and FLUSHALL remove strings and streams, take SYNC or ASYNC, and refuse anything else", async () => {
  await withClient(async (client, server) => {
    await client.call("SET", "a", "1");
    await addStreamEntry(server, "s");
    assert.equal(await client.call("FLUSHDB"), "OK");
    assert.equal(await client.call("DBSIZE"), 0);
    await client.call("SET", "a", "1");
    assert.equal(await client.call("FLUSHALL", "async"), "OK");
    assert.equal(await client.call("EXISTS", "a"), 0);
    assert.equal(await client.call("FLUSHDB", "SYNC"), "OK");
    assert.deepEqual(await client.call("FLUSHDB", "foo"), error("ERR syntax error"));
    assert.deepEqual(await client.call("FLUSHALL", "sync", "async"), error("ERR syntax error"));
  });
});

test("KEYS, SCAN, DBSIZE, RANDOMKEY and FLUSHDB see only the client's tenant", async () => {
  const tokens = [
    { token: "a".repeat(16), tenant: "a" },
    { token: "b".repeat(16), tenant: "b" },
  ];
  const server = await startRespServer({ tokens });
  const a = await RawClient.connect(server.respPort);
  const b = await RawClient.connect(server.respPort);
  try {
    assert.equal(await a.call("AUTH", "a".repeat(16)), "OK");
    assert.equal(await b.call("AUTH", "b".repeat(16)), "OK");
    for (let i = 0; i < 30; i++) await a.call("SET", `a:${i}`, "1");
    await b.call("SET", "b:0", "1");
    await b.call("SET", "shared", "b");
    await a.call("SET", "shared", "a");
    await addStreamEntry(server, "as", "a");
    assert.equal(await a.call("DBSIZE"), 32);
    assert.equal(await b.call("DBSIZE"), 2);
    assert.deepEqual(sorted(await b.call("KEYS", "*")), ["b:0", "shared"]);
    assert.equal(((await a.call("KEYS", "*")) as string[]).length, 32);
    assert.deepEqual((await scanAll(b, "COUNT", "1")).sort(), ["b:0", "shared"]);
    assert.equal(new Set(await scanAll(a, "COUNT", "3")).size, 32);
    assert.deepEqual(await b.call("TYPE", "as"), "none");
    assert.equal(await b.call("GET", "shared"), "b");
    for (let i = 0; i < 20; i++) assert.notEqual(await b.call("RANDOMKEY"), "as");
    // A cursor of one tenant's scan means nothing to another: it starts where its number says, within the tenant.
    const [cursor] = (await a.call("SCAN", "0", "COUNT", "2")) as [string, string[]];
    const other = (await b.call("SCAN", cursor)) as [string, string[]];
    assert.ok(other[1].every((name) => name === "b:0" || name === "shared"));
    assert.equal(await b.call("FLUSHDB"), "OK");
    assert.equal(await b.call("DBSIZE"), 0);
    assert.equal(await a.call("DBSIZE"), 32);
    assert.equal(await a.call("GET", "shared"), "a");
  } finally {
    a.close();
    b.close();
    await server.stop();
  }
});

test("OBJECT ENCODING and REFCOUNT answer as Redis would for a value just SET; OBJECT's errors are Redis's", async () => {
  await withClient(async (client, server) => {
    const values: [string, string, number][] = [
      ["1234", "int", 2147483647],
      ["-12", "int", 1],
      ["12345", "int", 1],
      ["12345678901234567890", "embstr", 1],
      ["-0", "embstr", 1],
      ["01", "embstr", 1],
      ["x".repeat(44), "embstr", 1],
      ["x".repeat(45), "raw", 1],
    ];
    for (const [value, encoding, refcount] of values) {
      await client.call("SET", "k", value);
      assert.deepEqual(
        await client.pipeline([
          ["OBJECT", "ENCODING", "k"],
          ["object", "refcount", "k"],
        ]),
        [encoding, refcount],
        value,
      );
    }
    await addStreamEntry(server, "s");
    assert.deepEqual(
      await client.pipeline([
        ["OBJECT", "ENCODING", "s"],
        ["OBJECT", "REFCOUNT", "s"],
      ]),
      ["stream", 1],
    );
    assert.equal(await client.call("OBJECT", "IDLETIME", "k"), 0);
    assert.equal(await client.call("OBJECT", "ENCODING", "nosuch"), null);
    assert.equal(await client.call("OBJECT", "FREQ", "nosuch"), null);
    const freq = await client.call("OBJECT", "FREQ", "k");
    assert.ok(freq instanceof RespReplyError && freq.message.startsWith("ERR An LFU maxmemory policy is not selected"));
    const help = (await client.call("OBJECT", "HELP")) as string[];
    assert.equal(help[0], "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert.equal(help.at(-1), "    Prints this help.");
    assert.deepEqual(await client.call("OBJECT", "foo", "k"), error("ERR unknown subcommand 'foo'. Try OBJECT HELP."));
    assert.deepEqual(
      await client.call("OBJECT", "Encoding"),
      error("ERR wrong number of arguments for 'object|encoding' command"),
    );
    assert.deepEqual(await client.call("OBJECT", "help", "x"), error("ERR wrong number of arguments for 'object|help' command"));
    assert.deepEqual(await client.call("OBJECT"), error("ERR wrong number of arguments for 'object' command"));
  });
});

test("inside MULTI, DEL, EXISTS, TYPE and RENAME see the transaction's own writes", async () => {
  await withClient(async (client) => {
    const replies = await client.pipeline([
      ["MULTI"],
      ["SET", "a", "1"],
      ["EXISTS", "a"],
      ["RENAME", "a", "b"],
      ["TYPE", "b"],
      ["DEL", "a", "b"],
      ["EXISTS", "a", "b"],
      ["EXEC"],
    ]);
    assert.deepEqual(replies.at(-1), ["OK", 1, "OK", "string", 1, 0]);
    assert.equal(await client.call("DBSIZE"), 0);
  });
});

test("a read-only token may read keys but not delete, rename, copy, expire or flush them", async () => {
  const tokens = [
    { token: "w".repeat(16), tenant: "t" },
    { token: "r".repeat(16), tenant: "t", access: "read" },
  ];
  const server = await startRespServer({ tokens });
  const writer = await RawClient.connect(server.respPort);
  const reader = await RawClient.connect(server.respPort);
  try {
    await writer.call("AUTH", "w".repeat(16));
    await reader.call("AUTH", "r".repeat(16));
    await writer.call("SET", "k", "v");
    assert.deepEqual(await reader.pipeline([["EXISTS", "k"], ["TYPE", "k"], ["KEYS", "*"], ["DBSIZE"], ["TTL", "k"]]), [
      1,
      "string",
      ["k"],
      1,
      -1,
    ]);
    const refused = await reader.pipeline([
      ["DEL", "k"],
      ["DEL", "nosuch"],
      ["RENAME", "k", "j"],
      ["COPY", "k", "j"],
      ["EXPIRE", "k", "10"],
      ["PERSIST", "k"],
      ["FLUSHDB"],
    ]);
    for (const reply of refused) assert.ok(reply instanceof RespReplyError && reply.message.startsWith("NOPERM"), String(reply));
    assert.equal(await writer.call("GET", "k"), "v");
  } finally {
    writer.close();
    reader.close();
    await server.stop();
  }
});
