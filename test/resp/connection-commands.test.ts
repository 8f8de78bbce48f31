import assert from "node:assert/strict";
import { test } from "node:test";
import { RawClient, RespReplyError, type RespValue, startRespServer } from "../support/resp.js";

const TOKEN = "t".repeat(16);
const OTHER_TOKEN = "o".repeat(16);
const READ_TOKEN = "r".repeat(16);

function error(message: string): RespReplyError {
  return new RespReplyError(message);
}

/** HELLO's RESP2 reply (a flat array) as an object. */
function helloMap(reply: RespValue): Record<string, RespValue> {
  assert.ok(Array.isArray(reply), `HELLO answered ${JSON.stringify(reply)}`);
  const map: Record<string, RespValue> = {};
  for (let i = 0; i < reply.length; i += 2) map[reply[i] as string] = reply[i + 1] as RespValue;
  return map;
}

test("HELLO answers Redis's map as a flat array, speaks RESP2 only, and checks its options as Redis does", async () => {
  const server = await startRespServer();
  const client = await RawClient.connect(server.respPort);
  try {
    const id = await client.call("CLIENT", "ID");
    assert.deepEqual(await client.call("HELLO"), [
      "server",
      "redis",
      "version",
      "7.0.15",
      "proto",
      2,
      "id",
      id,
      "mode",
      "standalone",
      "role",
      "master",
      "modules",
      [],
    ]);
    assert.equal(helloMap(await client.call("HELLO", "2")).proto, 2);
    assert.deepEqual(await client.call("HELLO", "3"), error("NOPROTO sorry, this protocol version is not supported."));
    assert.deepEqual(await client.call("HELLO", "4"), error("NOPROTO unsupported protocol version"));
    assert.deepEqual(await client.call("HELLO", "1"), error("NOPROTO unsupported protocol version"));
    assert.deepEqual(await client.call("HELLO", "x"), error("ERR Protocol version is not an integer or out of range"));
    assert.deepEqual(await client.call("HELLO", "2", "FOO"), error("ERR Syntax error in HELLO option 'FOO'"));
    assert.deepEqual(await client.call("HELLO", "2", "AUTH", "x"), error("ERR Syntax error in HELLO option 'AUTH'"));
    assert.deepEqual(
      await client.call("HELLO", "2", "SETNAME", "a b"),
      error("ERR Client names cannot contain spaces, newlines or special characters."),
    );
    assert.equal(helloMap(await client.call("HELLO", "2", "SETNAME", "worker-1")).server, "redis");
    assert.equal(await client.call("CLIENT", "GETNAME"), "worker-1");
    // Without tokens the default user has no password: HELLO AUTH default <anything> signs in, as in Redis.
    assert.equal(helloMap(await client.call("HELLO", "2", "AUTH", "default", "whatever")).proto, 2);
    assert.deepEqual(
      await client.call("HELLO", "2", "AUTH", "bob", "whatever"),
      error("WRONGPASS invalid username-password pair or user is disabled."),
    );
    assert.deepEqual(
      await client.call("AUTH", "x"),
      error(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      ),
    );
    assert.equal(await client.call("AUTH", "default", "x"), "OK");
  } finally {
    client.close();
    await server.stop();
  }
});

test("with tokens, HELLO needs AUTH, HELLO AUTH signs in as AUTH does, and RESET signs out", async () => {
  const server = await startRespServer({
    tokens: [
      { token: TOKEN, tenant: "acme" },
      { token: OTHER_TOKEN, tenant: "other" },
    ],
  });
  const client = await RawClient.connect(server.respPort);
  try {
    assert.deepEqual(await client.call("GET", "k"), error("NOAUTH Authentication required."));
    const refused = await client.call("HELLO", "2");
    assert.ok(refused instanceof RespReplyError && refused.message.startsWith("NOAUTH HELLO must be called"), String(refused));
    assert.deepEqual(
      await client.call("HELLO", "2", "AUTH", "default", "wrong-token-xxxxx"),
      error("WRONGPASS invalid username-password pair or user is disabled."),
    );
    assert.deepEqual(
      await client.call("HELLO", "2", "AUTH", "other", TOKEN),
      error("WRONGPASS invalid username-password pair or user is disabled."),
    );
    const hello = helloMap(await client.call("HELLO", "2", "AUTH", "acme", TOKEN, "SETNAME", "n1"));
    assert.equal(hello.version, "7.0.15");
    assert.equal(await client.call("SET", "k", "acme's"), "OK");
    assert.equal(await client.call("CLIENT", "GETNAME"), "n1");
    assert.deepEqual(await client.pipeline([["MULTI"], ["SET", "k", "queued"], ["RESET"]]), ["OK", "QUEUED", "RESET"]);
    assert.deepEqual(await client.call("GET", "k"), error("NOAUTH Authentication required."));
    assert.equal(await client.call("AUTH", OTHER_TOKEN), "OK");
    assert.equal(await client.call("CLIENT", "GETNAME"), null);
    assert.equal(await client.call("GET", "k"), null, "the other tenant has its own k");
    assert.equal(await client.call("AUTH", "default", TOKEN), "OK");
    assert.equal(await client.call("GET", "k"), "acme's", "RESET ended MULTI without running it");
    assert.deepEqual(await client.call("EXEC"), error("ERR EXEC without MULTI"));
  } finally {
    client.close();
    await server.stop();
  }
});

test("RESET ends MULTI, forgets watched keys and the name; without tokens the client stays signed in", async () => {
  const server = await startRespServer();
  const a = await RawClient.connect(server.respPort);
  const b = await RawClient.connect(server.respPort);
  try {
    assert.deepEqual(await a.pipeline([["CLIENT", "SETNAME", "x"], ["WATCH", "w"], ["RESET"]]), ["OK", "OK", "RESET"]);
    assert.equal(await b.call("SET", "w", "changed"), "OK");
    assert.deepEqual(await a.pipeline([["MULTI"], ["SET", "w", "mine"], ["EXEC"]]), ["OK", "QUEUED", ["OK"]]);
    assert.equal(await a.call("CLIENT", "GETNAME"), null);
    assert.equal(await a.call("GET", "w"), "mine");
  } finally {
    a.close();
    b.close();
    await server.stop();
  }
});

test("CLIENT ID, SETNAME, GETNAME, SETINFO, INFO and LIST answer in Redis's formats", async () => {
  const server = await startRespServer();
  const a = await RawClient.connect(server.respPort);
  const b = await RawClient.connect(server.respPort);
  try {
    const idA = (await a.call("CLIENT", "ID")) as number;
    const idB = (await b.call("CLIENT", "ID")) as number;
    assert.ok(Number.isInteger(idA) && idB > idA);
    assert.equal(await a.call("CLIENT", "GETNAME"), null);
    assert.deepEqual(
      await a.call("CLIENT", "SETNAME", "has space"),
      error("ERR Client names cannot contain spaces, newlines or special characters."),
    );
    assert.equal(await a.call("CLIENT", "SETNAME", "alpha"), "OK");
    assert.equal(await a.call("CLIENT", "GETNAME"), "alpha");
    assert.equal(await a.call("CLIENT", "SETINFO", "LIB-NAME", "mylib"), "OK");
    assert.equal(await a.call("CLIENT", "SETINFO", "lib-ver", "1.2.3"), "OK");
    assert.deepEqual(await a.call("CLIENT", "SETINFO", "lib-foo", "1"), error("ERR Unrecognized option 'lib-foo'"));
    assert.deepEqual(
      await a.call("CLIENT", "SETINFO", "LIB-NAME", "a b"),
      error("ERR LIB-NAME cannot contain spaces, newlines or special characters."),
    );
    const info = (await a.call("CLIENT", "INFO")) as string;
    assert.match(
      info,
      new RegExp(
        `^id=${idA} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:${server.respPort} fd=-?\\d+ name=alpha age=\\d+ idle=\\d+ ` +
          "flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=\\d+ qbuf-free=\\d+ argv-mem=\\d+ multi-mem=0 rbs=\\d+ rbp=\\d+ " +
          "obl=0 oll=0 omem=0 tot-mem=\\d+ events=r cmd=client\\|info user=default redir=-1 resp=2 lib-name=mylib lib-ver=1.2.3\\n$",
      ),
    );
    assert.deepEqual(await b.pipeline([["MULTI"], ["GET", "x"]]), ["OK", "QUEUED"]);
    const lines = ((await a.call("CLIENT", "LIST")) as string).trimEnd().split("\n");
    assert.equal(lines.length, 2);
    const fields = lines.map((line) => Object.fromEntries(line.split(" ").map((field) => field.split("=", 2))));
    assert.deepEqual(
      fields.map((f) => [Number(f.id), f.name, f.flags, f.multi, f.cmd]),
      [
        [idA, "alpha", "N", "-1", "client|list"],
        [idB, "", "x", "1", "get"],
      ],
    );
    assert.deepEqual(await a.call("CLIENT", "LIST", "TYPE", "pubsub"), "");
    assert.equal(((await a.call("CLIENT", "LIST", "TYPE", "normal")) as string).split("\n").length, 3);
    assert.deepEqual(await a.call("CLIENT", "LIST", "TYPE", "bogus"), error("ERR Unknown client type 'bogus'"));
    const byId = (await a.call("CLIENT", "LIST", "ID", String(idB), "999999")) as string;
    assert.match(byId, new RegExp(`^id=${idB} [^\\n]*\\n$`));
    assert.deepEqual(await a.call("CLIENT", "LIST", "ID", "x"), error("ERR Invalid client ID"));
    assert.deepEqual(await a.call("CLIENT", "LIST", "FOO"), error("ERR syntax error"));
    assert.equal(await a.call("CLIENT", "NO-EVICT", "on"), "OK");
    assert.equal(await a.call("CLIENT", "NO-TOUCH", "off"), "OK");
    assert.deepEqual(await a.call("CLIENT", "NO-EVICT", "maybe"), error("ERR syntax error"));
    assert.equal(await a.call("CLIENT", "REPLY", "ON"), "OK");
    assert.ok((await a.call("CLIENT", "REPLY", "OFF")) instanceof RespReplyError);
    const help = (await a.call("CLIENT", "HELP")) as string[];
    assert.equal(help[0], "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    assert.deepEqual(help.slice(-2), ["HELP", "    Prints this help."]);
    assert.deepEqual(await a.call("CLIENT", "NOSUCH"), error("ERR unknown subcommand 'NOSUCH'. Try CLIENT HELP."));
    assert.deepEqual(await a.call("CLIENT", "ID", "1"), error("ERR wrong number of arguments for 'client|id' command"));
    assert.deepEqual(await a.call("CLIENT"), error("ERR wrong number of arguments for 'client' command"));
  } finally {
    a.close();
    b.close();
    await server.stop();
  }
});

test("CLIENT KILL closes another client by ID or address; the old form answers ERR No such client", async () => {
  const server = await startRespServer();
  const a = await RawClient.connect(server.respPort);
  const b = await RawClient.connect(server.respPort);
  const c = await RawClient.connect(server.respPort);
  try {
    const idB = (await b.call("CLIENT", "ID")) as number;
    const idA = (await a.call("CLIENT", "ID")) as number;
    assert.equal(await a.call("CLIENT", "KILL", "ID", String(idB)), 1);
    await b.closed;
    assert.equal(await a.call("CLIENT", "KILL", "ID", String(idB)), 0);
    assert.equal(await a.call("CLIENT", "KILL", "ID", String(idA)), 0, "SKIPME yes by default");
    assert.deepEqual(await a.call("CLIENT", "KILL", "ID", "0"), error("ERR client-id should be greater than 0"));
    assert.deepEqual(await a.call("CLIENT", "KILL", "127.0.0.1:1"), error("ERR No such client"));
    assert.deepEqual(await a.call("CLIENT", "KILL", "ID"), error("ERR No such client"));
    assert.deepEqual(await a.call("CLIENT", "KILL", "FOO", "bar"), error("ERR syntax error"));
    assert.deepEqual(await a.call("CLIENT", "KILL", "USER", "wrong_user"), error("ERR No such user 'wrong_user'"));
    assert.equal(await a.call("CLIENT", "KILL", "USER", "default", "ID", String(idB)), 0);
    const addressC = `127.0.0.1:${c.socket.localPort}`;
    assert.equal(await a.call("CLIENT", "KILL", addressC), "OK");
    await c.closed;
    assert.equal(await a.call("CLIENT", "KILL", "ID", String(idA), "SKIPME", "no"), 1);
    await a.closed;
  } finally {
    a.close();
    b.close();
    c.close();
    await server.stop();
  }
});

test("CLIENT LIST and KILL see only the caller's tenant", async () => {
  const server = await startRespServer({
    tokens: [
      { token: TOKEN, tenant: "acme" },
      { token: OTHER_TOKEN, tenant: "other" },
      { token: READ_TOKEN, tenant: "acme", access: "read" },
    ],
  });
  const acme = await RawClient.connect(server.respPort);
  const other = await RawClient.connect(server.respPort);
  const reader = await RawClient.connect(server.respPort);
  try {
    assert.equal(await acme.call("AUTH", TOKEN), "OK");
    assert.equal(await other.call("AUTH", OTHER_TOKEN), "OK");
    assert.equal(await reader.call("AUTH", READ_TOKEN), "OK");
    const otherId = (await other.call("CLIENT", "ID")) as number;
    const users = ((await acme.call("CLIENT", "LIST")) as string)
      .trimEnd()
      .split("\n")
      .map((line) => /user=(\S+)/.exec(line)?.[1]);
    assert.deepEqual(users, ["acme", "acme"]);
    assert.equal(await acme.call("CLIENT", "KILL", "ID", String(otherId)), 0);
    assert.equal(await other.call("PING"), "PONG");
  } finally {
    acme.close();
    other.close();
    reader.close();
    await server.stop();
  }
});
