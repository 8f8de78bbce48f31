/**
 * Failed conditions over HTTP while the write they conflict with is not yet durable: the
 * answer waits for that write, and names only a version (or an absence) a read then confirms.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GatedDisk } from "../support/gated-disk.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** The store key of an HTTP key of the default (open) tenant. */
const storageKey = (key: string) => `k/default/${key}`;

describe("conditional writes over HTTP against a write not yet durable", () => {
  const disk = new GatedDisk();
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ checkpointOnExit: false }, { fileSystem: disk.fileSystem });
  });
  after(async () => {
    disk.syncs.release();
    await s.stop();
  });

  /** Starts `write` on the store with commits held, and lets them go `holdMs` later. */
  function holdWhile<T>(write: () => Promise<T>, holdMs = 300): Promise<T> {
    disk.syncs.hold();
    const pending = write();
    setTimeout(() => disk.syncs.release(), holdMs);
    return pending;
  }

  test("a 412's currentVersion is the version a GET right after it answers", async () => {
    const v1 = (await s.call("PUT", "/v1/kv/cas", { json: "one" })).json.version as number;
    const pending = holdWhile(() => s.server.store.put(storageKey("cas"), '"two"'));
    const conflict = await s.call("PUT", "/v1/kv/cas", { json: "three", headers: { "if-match": `"${v1}"` } });
    const read = await s.call("GET", "/v1/kv/cas");
    assert.equal(conflict.status, 412);
    assert.equal(conflict.json.error.code, "LOGBOOK_PRECONDITION_FAILED");
    assert.equal(`"${conflict.json.error.currentVersion}"`, read.headers.get("etag"));
    assert.equal(conflict.json.error.currentVersion, await pending);
  });

  test("a batch's 409 names the version a GET right after it answers", async () => {
    const v1 = (await s.call("PUT", "/v1/kv/b", { json: 1 })).json.version as number;
    const pending = holdWhile(() => s.server.store.put(storageKey("b"), "2"));
    const conflict = await s.call("POST", "/v1/kv:batch", {
      json: { operations: [{ type: "put", key: "b", value: 3, ifVersion: v1 }] },
    });
    const read = await s.call("GET", "/v1/kv/b");
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.error.key, "b");
    assert.equal(`"${conflict.json.error.currentVersion}"`, read.headers.get("etag"));
    assert.equal(conflict.json.error.currentVersion, await pending);
  });

  test("If-Match: * and an unconditional DELETE answer that a key is gone only once its delete is durable", async () => {
    await s.call("PUT", "/v1/kv/gone", { json: "here" });
    const pending = holdWhile(() => s.server.store.delete(storageKey("gone")));
    const [ifExists, deleted] = await Promise.all([
      s.call("PUT", "/v1/kv/gone", { json: "again", headers: { "if-match": "*" } }).then(async (reply) => ({
        reply,
        read: (await s.call("GET", "/v1/kv/gone")).status,
      })),
      s.call("DELETE", "/v1/kv/gone").then(async (reply) => ({ reply, read: (await s.call("GET", "/v1/kv/gone")).status })),
    ]);
    assert.equal(ifExists.reply.status, 412);
    assert.equal(ifExists.reply.json.error.currentVersion, 0);
    assert.equal(ifExists.read, 404, "the key was gone when the 412 said so");
    assert.equal(deleted.reply.status, 404);
    assert.equal(deleted.reply.json.error.code, "LOGBOOK_NOT_FOUND");
    assert.equal(deleted.read, 404, "the key was gone when the 404 said so");
    await pending;
  });
});
