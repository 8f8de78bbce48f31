import assert from "node:assert/strict";
import { test } from "node:test";
import { RawClient, RespReplyError, startRespServer } from "../support/resp.js";

test("the Redis endpoint answers in order, pipelined, and refuses unknown commands with Redis's text", async () => {
  const server = await startRespServer();
  const client = await RawClient.connect(server.respPort);
  try {
    assert.equal(await client.call("PING"), "PONG");
    assert.equal(await client.call("ECHO", "hé"), Buffer.from("hé").toString("latin1"));
    const replies = await client.pipeline([
      ["SET", "k", "1"],
      ["GET", "k"],
      ["SET", "k", "2"],
      ["GET", "k"],
      ["GET", "none"],
    ]);
    assert.deepEqual(replies, ["OK", "1", "OK", "2", null]);
    const unknown = await client.call("NOSUCH", "a", "b");
    assert.ok(unknown instanceof RespReplyError);
    assert.equal(unknown.message, "ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ");
    const arity = await client.call("GET");
    assert.deepEqual(arity, new RespReplyError("ERR wrong number of arguments for 'get' command"));
    client.send('SET "a b" "x\\ny"\r\nGET "a b"\r\n');
    assert.equal(await client.next(), "OK");
    assert.equal(await client.next(), "x\ny");
  } finally {
    client.close();
    await server.stop();
  }
});

test("MULTI/EXEC runs queued commands as one write; WATCH aborts EXEC when a watched key changed", async () => {
  const server = await startRespServer();
  const a = await RawClient.connect(server.respPort);
  const b = await RawClient.connect(server.respPort);
  try {
    assert.deepEqual(await a.pipeline([["MULTI"], ["SET", "t", "1"], ["GET", "t"], ["EXEC"]]), [
      "OK",
      "QUEUED",
      "QUEUED",
      ["OK", "1"],
    ]);
    assert.equal(await a.call("WATCH", "t"), "OK");
    assert.equal(await b.call("SET", "t", "2"), "OK");
    assert.deepEqual(await a.pipeline([["MULTI"], ["SET", "t", "3"], ["EXEC"]]), ["OK", "QUEUED", null]);
    assert.equal(await a.call("GET", "t"), "2");
    const aborted = await a.pipeline([["MULTI"], ["GET"], ["EXEC"]]);
    assert.ok(aborted[2] instanceof RespReplyError && aborted[2].message.startsWith("EXECABORT"));
  } finally {
    a.close();
    b.close();
    await server.stop();
  }
});
