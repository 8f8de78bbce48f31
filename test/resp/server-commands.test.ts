import assert from "node:assert/strict";
import { connect } from "node:net";
import { test } from "node:test";
import { RawClient, RespReplyError, type RespValue, startRespServer } from "../support/resp.js";

function error(message: string): RespReplyError {
  return new RespReplyError(message);
}

/** INFO's text as a client parses it: `# Title` opens a section, `field:value` lines fill it. */
function parseInfo(text: RespValue): Map<string, Map<string, string>> {
  assert.equal(typeof text, "string", `INFO answered ${JSON.stringify(text)}`);
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of (text as string).split("\r\n")) {
    if (line.startsWith("# ")) sections.set(line.slice(2), (current = new Map()));
    else if (line !== "") {
      const colon = line.indexOf(":");
      assert.ok(current !== undefined && colon > 0, `a field outside a section or without a colon: ${line}`);
      current.set(line.slice(0, colon), line.slice(colon + 1));
    }
  }
  return sections;
}

test("INFO answers Redis's sections in Redis's order and format", async () => {
  const server = await startRespServer();
  const client = await RawClient.connect(server.respPort);
  try {
    const text = (await client.call("INFO")) as string;
    assert.ok(text.endsWith("\r\n") && !text.includes("\n\n") && !/[^\r]\n/.test(text), "every line ends in CRLF");
    const info = parseInfo(text);
    const titles = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats"];
    assert.deepEqual([...info.keys()], [...titles, "Cluster", "Keyspace"]);
    const serverInfo = info.get("Server") as Map<string, string>;
    assert.equal(serverInfo.get("redis_version"), "7.0.15");
    assert.equal(serverInfo.get("redis_mode"), "standalone");
    assert.match(serverInfo.get("logbook_version") ?? "", /^\d+\.\d+\.\d+/);
    assert.equal(serverInfo.get("tcp_port"), String(server.respPort));
    assert.equal(serverInfo.get("process_id"), String(process.pid));
    assert.match(serverInfo.get("run_id") ?? "", /^[0-9a-f]{40}$/);
    assert.match(serverInfo.get("uptime_in_seconds") ?? "", /^\d+$/);
    assert.equal(info.get("Clients")?.get("connected_clients"), "1");
    assert.equal(info.get("Clients")?.get("maxclients"), "10000");
    assert.match(info.get("Memory")?.get("used_memory") ?? "", /^\d+$/);
    assert.match(info.get("Memory")?.get("used_memory_human") ?? "", /^\d+(\.\d\d[KMGTP]|B)$/);
    assert.equal(info.get("Memory")?.get("maxmemory"), "0");
    const persistence = info.get("Persistence") as Map<string, string>;
    assert.deepEqual(
      ["loading", "aof_enabled", "aof_rewrite_in_progress", "appendfsync"].map((f) => persistence.get(f)),
      ["0", "1", "0", "always"],
    );
    assert.equal(info.get("Replication")?.get("role"), "master");
    assert.equal(info.get("Replication")?.get("connected_slaves"), "0");
    assert.match(info.get("CPU")?.get("used_cpu_user") ?? "", /^\d+\.\d{6}$/);
    assert.equal(info.get("Keyspace")?.size, 0, "an empty database is not listed");
    assert.deepEqual([...parseInfo(await client.call("INFO", "server")).keys()], ["Server"]);
    assert.deepEqual([...parseInfo(await client.call("INFO", "CPU", "clients")).keys()], ["Clients", "CPU"]);
    assert.equal(await client.call("INFO", "nosuchsection"), "");
    const all = [...parseInfo(await client.call("INFO", "all")).keys()];
    assert.deepEqual(all, [...titles.slice(0, 8), "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace"]);
    assert.deepEqual([...parseInfo(await client.call("INFO", "everything")).keys()], all);
    assert.deepEqual([...parseInfo(await client.call("INFO", "default")).keys()], [...info.keys()]);
  } finally {
    client.close();
    await server.stop();
  }
});

test("INFO counts commands, errors, connections, keys of the caller's tenant and blocked clients", async () => {
  const server = await startRespServer({
    tokens: [
      { token: "a".repeat(16), tenant: "acme" },
      { token: "b".repeat(16), tenant: "beta" },
    ],
  });
  const acme = await RawClient.connect(server.respPort);
  const beta = await RawClient.connect(server.respPort);
  try {
    assert.equal(await acme.call("AUTH", "a".repeat(16)), "OK");
    assert.equal(await beta.call("AUTH", "b".repeat(16)), "OK");
    await acme.pipeline([["SET", "k1", "v"], ["SET", "k2", "v"], ["GET", "k1"], ["GET"], ["NOSUCH"]]);
    assert.equal(await beta.call("SET", "only-beta", "v"), "OK");
    const info = parseInfo(await acme.call("INFO", "commandstats", "errorstats", "keyspace", "stats", "clients"));
    const commands = info.get("Commandstats") as Map<string, string>;
    assert.match(commands.get("cmdstat_set") ?? "", /^calls=3,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$/);
    assert.match(commands.get("cmdstat_get") ?? "", /^calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0$/);
    assert.equal(info.get("Errorstats")?.get("errorstat_ERR"), "count=2");
    assert.equal(info.get("Keyspace")?.get("db0"), "keys=2,expires=0,avg_ttl=0");
    assert.equal(
      parseInfo(await beta.call("INFO", "keyspace"))
        .get("Keyspace")
        ?.get("db0"),
      "keys=1,expires=0,avg_ttl=0",
    );
    assert.equal(info.get("Stats")?.get("total_connections_received"), "2");
    assert.equal(info.get("Stats")?.get("total_error_replies"), "2");
    assert.equal(info.get("Clients")?.get("blocked_clients"), "0");
    // A client waiting in a blocking read is marked on its session; mark one as the stream commands do.
    const betaSession = [...(server.server.resp?.sessions() ?? [])].find((s) => s.principal?.tenant === "beta");
    assert.ok(betaSession !== undefined);
    betaSession.blocked = true;
    assert.equal(
      parseInfo(await acme.call("INFO", "clients"))
        .get("Clients")
        ?.get("blocked_clients"),
      "1",
    );
    assert.match((await beta.call("CLIENT", "LIST")) as string, /flags=b/);
    betaSession.blocked = false;
    assert.equal(await acme.call("CONFIG", "RESETSTAT"), "OK");
    const reset = parseInfo(await acme.call("INFO", "commandstats", "errorstats"));
    assert.deepEqual([...(reset.get("Commandstats") as Map<string, string>).keys()], []);
    assert.equal(reset.get("Errorstats")?.size, 0);
  } finally {
    acme.close();
    beta.close();
    await server.stop();
  }
});

test.todo("INFO blocked_clients counts a client waiting in XREAD BLOCK 0 STREAMS s $ (once stream commands exist)");

test("CONFIG GET matches globs and answers what Logbook runs with; CONFIG SET accepts only what it can keep", async () => {
  const server = await startRespServer({ sync: "interval" });
  const client = await RawClient.connect(server.respPort);
  try {
    const pairs = (reply: RespValue) =>
      Object.fromEntries((reply as string[]).flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]])));
    assert.deepEqual(pairs(await client.call("CONFIG", "GET", "appendonly", "appendfsync", "save", "databases")), {
      appendonly: "yes",
      appendfsync: "everysec",
      save: "",
      databases: "1",
    });
    assert.deepEqual(await client.call("CONFIG", "GET", "PORT"), ["PORT", String(server.respPort)]);
    assert.deepEqual(await client.call("CONFIG", "GET", "bind"), ["bind", "127.0.0.1"]);
    assert.equal(await client.call("CONFIG", "SET", "port", String(server.respPort)), "OK", "a value as it is");
    assert.deepEqual(await client.call("CONFIG", "GET", "nosuch"), []);
    const maxes = pairs(await client.call("CONFIG", "GET", "max*"));
    assert.deepEqual(Object.keys(maxes).sort(), ["maxclients", "maxmemory", "maxmemory-policy"]);
    assert.deepEqual(await client.call("CONFIG", "GET", "proto-max-bulk-l?n"), ["proto-max-bulk-len", "4128768"]);
    // Weaker durability is accepted and changes nothing; stronger than the server's own is refused.
    assert.equal(await client.call("CONFIG", "SET", "appendfsync", "no"), "OK");
    assert.equal(await client.call("CONFIG", "SET", "appendfsync", "everysec"), "OK");
    assert.deepEqual(await client.call("CONFIG", "GET", "appendfsync"), ["appendfsync", "everysec"]);
    const stronger = await client.call("CONFIG", "SET", "appendfsync", "always");
    assert.ok(
      stronger instanceof RespReplyError &&
        stronger.message.startsWith("ERR CONFIG SET failed (possibly related to argument 'appendfsync') - "),
    );
    assert.deepEqual(
      await client.call("CONFIG", "SET", "appendfsync", "sometimes"),
      error(
        "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no",
      ),
    );
    assert.equal(await client.call("CONFIG", "SET", "appendonly", "yes", "save", ""), "OK");
    assert.equal(await client.call("CONFIG", "SET", "stream-node-max-entries", "10", "hash-max-ziplist-entries", "0"), "OK");
    assert.deepEqual(await client.call("CONFIG", "GET", "stream-node-max-entries"), ["stream-node-max-entries", "10"]);
    assert.deepEqual(await client.call("CONFIG", "GET", "hash-max-listpack-entries"), ["hash-max-listpack-entries", "0"]);
    assert.deepEqual(
      await client.call("CONFIG", "SET", "stream-node-max-entries", "5", "hz", "abc"),
      error("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
    );
    assert.deepEqual(
      await client.call("CONFIG", "GET", "stream-node-max-entries"),
      ["stream-node-max-entries", "10"],
      "all or nothing",
    );
    assert.deepEqual(
      await client.call("CONFIG", "SET", "maxmemory", "100mb"),
      error(
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - Logbook does not support changing it: Logbook keeps no memory limit and evicts nothing",
      ),
    );
    assert.deepEqual(
      await client.call("CONFIG", "SET", "databases", "16"),
      error("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
    );
    assert.deepEqual(
      await client.call("CONFIG", "SET", "nosuch", "1"),
      error("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"),
    );
    assert.deepEqual(
      await client.call("CONFIG", "SET", "hz", "1", "HZ", "2"),
      error("ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"),
    );
    assert.deepEqual(await client.call("CONFIG", "SET", "hz"), error("ERR wrong number of arguments for 'config|set' command"));
    assert.deepEqual(await client.call("CONFIG", "SET", "hz", "1", "x"), error("ERR syntax error"));
    assert.deepEqual(await client.call("CONFIG", "GET"), error("ERR wrong number of arguments for 'config|get' command"));
    assert.ok((await client.call("CONFIG", "REWRITE")) instanceof RespReplyError);
    assert.equal(
      ((await client.call("CONFIG", "HELP")) as string[])[0],
      "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    );
  } finally {
    client.close();
    await server.stop();
  }
});

test("COMMAND INFO, COUNT, LIST, DOCS and GETKEYS describe the command table as Redis 7.0 does", async () => {
  const server = await startRespServer();
  const client = await RawClient.connect(server.respPort);
  try {
    const [get, set, none, configGet] = (await client.call(
      "COMMAND",
      "INFO",
      "get",
      "SET",
      "nosuch",
      "config|get",
    )) as RespValue[][];
    assert.deepEqual(get?.slice(0, 8), ["get", 2, ["readonly", "fast"], 1, 1, 1, ["@read", "@string", "@fast"], []]);
    assert.deepEqual(get?.[8], [
      [
        "flags",
        ["RO", "access"],
        "begin_search",
        ["type", "index", "spec", ["index", 1]],
        "find_keys",
        ["type", "range", "spec", ["lastkey", 0, "keystep", 1, "limit", 0]],
      ],
    ]);
    assert.deepEqual(set?.slice(0, 7), ["set", -3, ["write", "denyoom"], 1, 1, 1, ["@write", "@string", "@slow"]]);
    assert.equal(none, null);
    assert.deepEqual(configGet?.slice(0, 7), [
      "config|get",
      -3,
      ["admin", "noscript", "loading", "stale"],
      0,
      0,
      0,
      ["@admin", "@slow", "@dangerous"],
    ]);
    const all = (await client.call("COMMAND")) as RespValue[][];
    assert.equal(all.length, await client.call("COMMAND", "COUNT"));
    assert.ok(all.every((info) => Array.isArray(info) && info.length === 10));
    const config = all.find((info) => info[0] === "config") as RespValue[];
    assert.deepEqual(
      (config[9] as RespValue[][]).map((sub) => sub[0]),
      ["config|get", "config|set", "config|resetstat", "config|rewrite", "config|help"],
    );
    const names = (await client.call("COMMAND", "LIST")) as string[];
    assert.ok(["get", "set", "info", "client|kill", "hello"].every((n) => names.includes(n)));
    assert.deepEqual(await client.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "conf*"), [
      "config",
      "config|get",
      "config|set",
      "config|resetstat",
      "config|rewrite",
      "config|help",
    ]);
    assert.ok(((await client.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "string")) as string[]).includes("get"));
    const [name, getDocs] = (await client.call("COMMAND", "DOCS", "get", "nosuch")) as [string, string[]];
    assert.equal(name, "get");
    assert.deepEqual([getDocs[0], typeof getDocs[1], ...getDocs.slice(2)], ["summary", "string", "group", "string"]);
    const clientDocs = (await client.call("COMMAND", "DOCS", "client")) as [string, RespValue[]];
    assert.deepEqual(clientDocs[1].slice(2, 5), ["group", "connection", "subcommands"]);
    const xadd = (await client.call("COMMAND", "INFO", "xadd")) as [RespValue[] | null];
    if (xadd[0] !== null)
      assert.deepEqual([xadd[0][0], xadd[0][3], (xadd[0][2] as string[]).includes("write")], ["xadd", 1, true]);
    const docs = (await client.call("COMMAND", "DOCS")) as RespValue[];
    assert.equal(docs.length, 2 * all.length);
    assert.deepEqual(await client.call("COMMAND", "GETKEYS", "SET", "k", "v"), ["k"]);
    assert.deepEqual(
      await client.call("COMMAND", "GETKEYS", "set", "k"),
      error("ERR Invalid number of arguments specified for command"),
    );
    assert.deepEqual(await client.call("COMMAND", "GETKEYS", "ping", "x"), error("ERR The command has no key arguments"));
    assert.deepEqual(await client.call("COMMAND", "GETKEYS", "nosuch", "x"), error("ERR Invalid command specified"));
    assert.deepEqual(
      await client.call("COMMAND", "COUNT", "x"),
      error("ERR wrong number of arguments for 'command|count' command"),
    );
    assert.deepEqual(await client.call("COMMAND", "NOSUCH"), error("ERR unknown subcommand 'NOSUCH'. Try COMMAND HELP."));
  } finally {
    client.close();
    await server.stop();
  }
});

test("TIME, LASTSAVE, SAVE, BGSAVE and BGREWRITEAOF: saves are store checkpoints", async () => {
  const server = await startRespServer();
  const client = await RawClient.connect(server.respPort);
  try {
    const [seconds, micros] = (await client.call("TIME")) as [string, string];
    assert.ok(Math.abs(Number(seconds) - Date.now() / 1000) < 5);
    assert.match(micros, /^\d{1,6}$/);
    const before = server.server.store.stats().checkpointsWritten;
    assert.equal(await client.call("SET", "k", "v"), "OK");
    assert.equal(await client.call("SAVE"), "OK");
    assert.equal(server.server.store.stats().checkpointsWritten, before + 1);
    assert.ok(Math.abs(((await client.call("LASTSAVE")) as number) - Date.now() / 1000) < 5);
    assert.equal(await client.call("SET", "k", "w"), "OK");
    assert.equal(await client.call("BGSAVE"), "Background saving started");
    assert.deepEqual(await client.call("BGSAVE", "x"), error("ERR syntax error"));
    assert.match((await client.call("BGREWRITEAOF")) as string, /^Background append only file rewriting (started|scheduled)$/);
    for (let i = 0; i < 100 && server.server.store.stats().checkpointRunning; i++) await new Promise((r) => setTimeout(r, 20));
    const persistence = parseInfo(await client.call("INFO", "persistence")).get("Persistence") as Map<string, string>;
    assert.equal(persistence.get("rdb_last_bgsave_status"), "ok");
    assert.equal(persistence.get("aof_rewrites"), "1");
    assert.deepEqual(await client.pipeline([["MULTI"], ["SAVE"]]), ["OK", error("ERR Command not allowed inside a transaction")]);
  } finally {
    client.close();
    await server.stop();
  }
});

test("DEBUG SLEEP waits on the calling connection only; SET-ACTIVE-EXPIRE is accepted; LOADAOF reopens the store", async () => {
  const server = await startRespServer();
  const sleeper = await RawClient.connect(server.respPort);
  const other = await RawClient.connect(server.respPort);
  try {
    const started = Date.now();
    const slept = sleeper.pipeline([["DEBUG", "SLEEP", "0.3"], ["PING"]]);
    assert.equal(await other.call("PING"), "PONG");
    assert.ok(Date.now() - started < 300, "another connection is served meanwhile");
    assert.deepEqual(await slept, ["OK", "PONG"]);
    assert.ok(Date.now() - started >= 290);
    assert.equal(await sleeper.call("DEBUG", "SLEEP", "0"), "OK");
    assert.equal(await sleeper.call("DEBUG", "SET-ACTIVE-EXPIRE", "0"), "OK");
    assert.equal(await sleeper.call("DEBUG", "set-active-expire", "1"), "OK");
    assert.deepEqual(
      await sleeper.call("DEBUG", "SLEEP"),
      error("ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP."),
    );
    assert.equal(await sleeper.call("SET", "kept", "v"), "OK");
    assert.equal(await sleeper.call("DEBUG", "LOADAOF"), "OK");
    assert.equal(await other.call("GET", "kept"), "v", "the reopened store recovered the write");
    assert.equal(
      ((await sleeper.call("DEBUG", "HELP")) as string[])[0],
      "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    );
  } finally {
    sleeper.close();
    other.close();
    await server.stop();
  }
});

test("SHUTDOWN checks its flags, refuses read-only tokens, and stops the whole server without a reply", async () => {
  const server = await startRespServer({
    tokens: [
      { token: "w".repeat(16), tenant: "acme" },
      { token: "r".repeat(16), tenant: "acme", access: "read" },
    ],
  });
  const client = await RawClient.connect(server.respPort);
  const reader = await RawClient.connect(server.respPort);
  try {
    assert.equal(await reader.call("AUTH", "r".repeat(16)), "OK");
    assert.ok(((await reader.call("SHUTDOWN")) as RespReplyError).message.startsWith("NOPERM"));
    assert.equal(await client.call("AUTH", "w".repeat(16)), "OK");
    assert.equal(await client.call("SET", "k", "v"), "OK");
    assert.deepEqual(await client.call("SHUTDOWN", "BOGUS"), error("ERR syntax error"));
    assert.deepEqual(await client.call("SHUTDOWN", "NOSAVE", "SAVE"), error("ERR syntax error"));
    assert.deepEqual(await client.call("SHUTDOWN", "ABORT"), error("ERR No shutdown in progress."));
    client.send("*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n");
    await client.closed;
    await reader.closed;
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port: server.respPort });
      socket.once("connect", () => resolve(false));
      socket.once("error", () => resolve(true));
    });
    assert.ok(refused, "the Redis port no longer accepts connections");
    for (let i = 0; i < 250 && !server.server.store.isClosed; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(server.server.store.isClosed, "the store was closed too");
  } finally {
    client.close();
    reader.close();
    await server.stop();
  }
});
