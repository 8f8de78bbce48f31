import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "../support/temp.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("logbook store CLI", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("put, get, scan, delete, checkpoint and inspect, as text and JSON", () => {
    assert.equal(run("store", "put", dir, "greeting", '"hello"').stdout, "1\n");
    assert.equal(run("store", "put", dir, "n", "5", "--if-version", "0").code, 0);
    assert.deepEqual(JSON.parse(run("store", "get", dir, "greeting", "--json").stdout), {
      key: "greeting",
      value: "hello",
      version: 1,
    });
    assert.equal(run("store", "scan", dir).stdout, 'greeting\t"hello"\t1\nn\t5\t2\n');
    assert.equal(
      run("store", "scan", dir, "--prefix", "n", "--json").stdout.trim(),
      JSON.stringify({ key: "n", value: 5, version: 2 }),
    );
    assert.equal(JSON.parse(run("store", "checkpoint", dir, "--json").stdout).lsn, 2);
    assert.equal(run("store", "delete", dir, "n").code, 0);
    const inspect = JSON.parse(run("store", "inspect", dir, "--json").stdout);
    assert.equal(inspect.keys, 1);
    assert.equal(inspect.checkpointLsn, 2);
    assert.equal(inspect.recordsAfterCheckpoint, 1);
  });

  test("a conflict, a missing key and bad input get clear errors and non-zero exits", () => {
    run("store", "put", dir, "k", "1");
    const conflict = run("store", "put", dir, "k", "2", "--if-version", "0");
    assert.equal(conflict.code, 2);
    assert.match(conflict.stderr, /LOGBOOK_CONFLICT/);
    const missing = run("store", "get", dir, "nope");
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no key/);
    const notJson = run("store", "put", dir, "k", "not json");
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /LOGBOOK_INVALID_ARGUMENT/);
    assert.equal(run("store", "put", dir, "k", "1", "--if-version", "-4").code, 2);
    assert.equal(run("store", "get", `${dir}/absent`, "k").code, 2);
  });
});
