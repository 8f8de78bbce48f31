/**
 * `logbook` runs with V8's allocation-site pretenuring off (src/cli/v8-settings.ts says why),
 * unless node was started with it on. V8 prints its pretenuring decisions when asked
 * (`--trace-pretenuring-statistics`); with pretenuring off it makes none, so it prints none.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { call } from "../support/server.js";
import { startServerProcess } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

/** Serves some writes under `nodeArgs` and counts the pretenuring decisions V8 printed. */
async function pretenuringDecisions(nodeArgs: string[]): Promise<number> {
  const { path: dir, cleanup } = await tempDir("logbook-v8-settings-");
  try {
    const server = await startServerProcess(
      ["--data-dir", dir, "--no-access-log"],
      {},
      {
        nodeArgs: ["--trace-pretenuring-statistics", ...nodeArgs],
      },
    );
    const closed = once(server.child, "close");
    try {
      for (let round = 0; round < 20; round++) {
        const replies = await Promise.all(
          Array.from({ length: 16 }, (_, i) => call(server.url, "PUT", `/v1/kv/k${round}-${i}`, { json: { round, i } })),
        );
        for (const reply of replies) assert.equal(reply.status, 200);
      }
      // The written values are served: the setting changes where objects live, not what they hold.
      const reply = await call(server.url, "GET", "/v1/kv/k19-15");
      assert.deepEqual(reply.json, { round: 19, i: 15 });
    } finally {
      // SIGTERM: a clean exit flushes what V8 printed (stdout is block-buffered into a pipe).
      server.child.kill("SIGTERM");
      await closed;
    }
    assert.equal(server.child.exitCode, 0);
    return server.otherLines.filter((line) => line.includes("pretenuring: AllocationSite")).length;
  } finally {
    await cleanup();
  }
}

test("the server runs with allocation-site pretenuring off: V8 makes no pretenuring decision", async () => {
  assert.equal(await pretenuringDecisions([]), 0);
});

test("node started with --allocation-site-pretenuring keeps it: V8 makes its decisions", async () => {
  // Also the control for the test above: the trace does print decisions when there are some.
  assert.ok((await pretenuringDecisions(["--allocation-site-pretenuring"])) > 0);
  assert.ok((await pretenuringDecisions(["--allocation_site_pretenuring"])) > 0);
});
