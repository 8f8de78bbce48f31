/**
 * `logbook serve` (what `npm start` runs) names the data directory it serves by its absolute
 * path, whatever relative path it was given.
 */
import assert from "node:assert/strict";
import { relative } from "node:path";
import { test } from "node:test";
import { killProcess, startServerProcess } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

test("the serving log line names the data directory by its absolute path", async () => {
  const temp = await tempDir();
  const given = relative(process.cwd(), `${temp.path}/data`);
  assert.ok(!given.startsWith("/"), "the test gives a relative path");
  const server = await startServerProcess(["--data-dir", given]);
  try {
    const serving = server.logs.find((entry) => entry.msg === "logbook is serving") as { config: { dataDir: string } };
    assert.equal(serving.config.dataDir, `${temp.path}/data`);
  } finally {
    await killProcess(server.child, "SIGTERM");
    await temp.cleanup();
  }
});
