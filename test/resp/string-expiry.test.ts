/**
 * Expiry through the string commands: put's `expiresAt`, expire ops, expired keys absent.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { RespTestServer } from "../support/resp.js";
import { internalKey, replies, withServer } from "./string-support.js";

const EXPIRY = {};

/** The key's expiry as the store holds it (0: none; undefined: absent). */
function expiresAt(server: RespTestServer, name: string): number | undefined {
  return server.server.store.keyspace.get(internalKey(name))?.expiresAt;
}

function assertAbout(actual: number | undefined, expected: number, slackMs = 2000): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= slackMs, `${actual} is not about ${expected}`);
}

test("SET EX, PX, EXAT and PXAT, SETEX and PSETEX give the key an absolute expiry", EXPIRY, () =>
  withServer(async ({ server, client }) => {
    const now = Date.now();
    const at = Math.floor(now / 1000) + 100;
    await client.pipeline([
      ["SET", "ex", "v", "EX", "100"],
      ["SET", "px", "v", "PX", "100000"],
      ["SET", "exat", "v", "EXAT", at],
      ["SET", "pxat", "v", "PXAT", now + 100_000],
      ["SETEX", "setex", "100", "v"],
      ["PSETEX", "psetex", "100000", "v"],
      ["SET", "xx", "v"],
      ["SET", "xx", "w", "XX", "PX", "100000"],
    ]);
    for (const name of ["ex", "px", "pxat", "setex", "psetex", "xx"]) assertAbout(expiresAt(server, name), now + 100_000);
    assert.equal(expiresAt(server, "exat"), at * 1000);
  }),
);

test("a key set with a short expiry is gone once it passes; one set in the past is gone at once", EXPIRY, () =>
  withServer(async ({ client }) => {
    assert.deepEqual(
      await replies(client, [
        ["SET", "short", "v", "PX", "100"],
        ["SET", "past", "v", "PXAT", "1"],
        ["GET", "past"],
        ["SET", "past2", "v", "EXAT", "1", "GET"],
        ["MGET", "short", "past"],
      ]),
      ["OK", "OK", null, null, ["v", null]],
    );
    await sleep(250);
    assert.deepEqual(
      await replies(client, [
        ["GET", "short"],
        ["SETNX", "short", "new"],
        ["GET", "short"],
      ]),
      [null, 1, "new"],
    );
  }),
);

test("KEEPTTL and in-place changes keep the expiry; SET, GETSET and MSET clear it", EXPIRY, () =>
  withServer(async ({ server, client }) => {
    const names = ["keepttl", "incr", "incrbyfloat", "append", "setrange", "setbit", "set", "getset", "mset"];
    await client.pipeline(names.map((name) => ["SET", name, "1", "PX", "100000"]));
    const before = new Map(names.map((name) => [name, expiresAt(server, name) as number]));
    assert.ok((before.get("keepttl") as number) > Date.now());
    await client.pipeline([
      ["SET", "keepttl", "2", "KEEPTTL"],
      ["INCR", "incr"],
      ["INCRBYFLOAT", "incrbyfloat", "0.5"],
      ["APPEND", "append", "x"],
      ["SETRANGE", "setrange", "0", "x"],
      ["SETBIT", "setbit", "0", "1"],
      ["SET", "set", "2"],
      ["GETSET", "getset", "2"],
      ["MSET", "mset", "2"],
    ]);
    for (const name of names.slice(0, 6)) assert.equal(expiresAt(server, name), before.get(name), name);
    for (const name of names.slice(6)) assert.equal(expiresAt(server, name), 0, name);
  }),
);

test("GETEX sets, replaces or clears the expiry, and deletes a key given a time already past", EXPIRY, () =>
  withServer(async ({ server, client }) => {
    const now = Date.now();
    await client.pipeline(["ex", "px", "exat", "pxat", "persist", "gone"].map((name) => ["SET", name, "v"]));
    assert.deepEqual(
      await replies(client, [
        ["GETEX", "ex", "EX", "100"],
        ["GETEX", "px", "PX", "100000"],
        ["GETEX", "exat", "EXAT", Math.floor(now / 1000) + 100],
        ["GETEX", "pxat", "PXAT", now + 100_000],
        ["GETEX", "persist", "EX", "100"],
        ["GETEX", "persist", "PERSIST"],
        ["GETEX", "gone", "PXAT", now - 1000],
        ["GET", "gone"],
      ]),
      ["v", "v", "v", "v", "v", "v", "v", null],
    );
    for (const name of ["ex", "px", "exat", "pxat"]) assertAbout(expiresAt(server, name), now + 100_000);
    assert.equal(expiresAt(server, "persist"), 0);
  }),
);
