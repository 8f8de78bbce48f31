import assert from "node:assert/strict";
import { test } from "node:test";
import { startRespServer } from "../support/resp.js";

test("the server closes its store and opens it again from the data directory; routes and events follow", async () => {
  const server = await startRespServer();
  try {
    const put = await server.call("PUT", "/v1/kv/a", { json: "one" });
    assert.equal(put.status, 200);
    const before = server.server.store.stats().appliedLsn;
    await server.server.resp?.reopenStore();
    // The reopened store recovered the write from the log, and is the one every route now reaches.
    assert.equal(server.server.store.stats().recovery.recordsReplayed > 0 || server.server.store.checkpointLsn > 0, true);
    assert.equal((await server.call("GET", "/v1/kv/a")).json, "one");
    assert.equal(server.server.store.stats().appliedLsn, before);
    let commits = 0;
    server.server.store.on("commit", () => commits++);
    assert.equal((await server.call("PUT", "/v1/kv/b", { json: 2 })).status, 200);
    assert.ok(commits >= 1, "a listener added through the served reference hears the new store");
    const metrics = await server.call("GET", "/metrics");
    assert.equal(metrics.status, 200);
    await Promise.all([server.server.resp?.reopenStore(), server.server.resp?.reopenStore()]);
    assert.equal((await server.call("GET", "/v1/kv/b")).json, 2);
  } finally {
    await server.stop();
  }
});
