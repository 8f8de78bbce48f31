/**
 * `logbook stream` on a data directory (add, range, tail, groups, pending) and, with --url,
 * on a running server, where `tail -f` prints entries as they are added.
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startTestServer } from "../support/server.js";
import { tempDir } from "../support/temp.js";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const TOKEN = "stream-cli-token-0123456789";
/** The longest a test waits for a followed entry to be printed. */
const FOLLOW_WAIT_MS = 10_000;

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the CLI without blocking this process's event loop (the server under test runs in it). */
async function runAsync(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { encoding: "utf8", timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("logbook stream on a directory", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("add prints IDs; range and tail print entries as text and JSON lines", () => {
    assert.equal(run("stream", "add", dir, "orders", "item", "tea", "qty", "2", "--id", "1-0").stdout, "1-0\n");
    assert.equal(run("stream", "add", dir, "orders", "item", "green cake", "--id", "2-0").stdout, "2-0\n");
    assert.equal(
      run("stream", "add", dir, "orders", "item", "jam", "--id", "3-0", "--json").stdout.includes('"id": "3-0"'),
      true,
    );
    assert.equal(
      run("stream", "range", dir, "orders").stdout,
      '1-0\titem="tea" qty="2"\n2-0\titem="green cake"\n3-0\titem="jam"\n',
    );
    assert.equal(run("stream", "range", dir, "orders", "--start", "(1-0", "--count", "1").stdout, '2-0\titem="green cake"\n');
    assert.deepEqual(
      run("stream", "tail", dir, "orders", "--count", "2", "--json")
        .stdout.trim()
        .split("\n")
        .map((line) => JSON.parse(line).id),
      ["2-0", "3-0"],
    );
    // Keys live in the tenant's range, as the server names them.
    assert.equal(run("store", "scan", dir, "--raw").stdout, "");
    assert.equal(run("stream", "range", dir, "orders", "--tenant", "other").stdout, "");
  });

  test("bad input and missing groups end with a message and exit 2", () => {
    run("stream", "add", dir, "orders", "a", "1");
    const odd = run("stream", "add", dir, "orders", "a");
    assert.equal(odd.code, 2);
    assert.match(odd.stderr, /pairs/);
    const badId = run("stream", "add", dir, "orders", "a", "1", "--id", "x");
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /LOGBOOK_INVALID_ARGUMENT/);
    const pending = run("stream", "pending", dir, "orders", "nope");
    assert.equal(pending.code, 2);
    assert.match(pending.stderr, /LOGBOOK_NO_GROUP/);
    const follow = run("stream", "tail", dir, "orders", "-f");
    assert.equal(follow.code, 2);
    assert.match(follow.stderr, /--url/);
    assert.equal(run("stream", "groups", dir, "orders").stdout.split("\n")[0]?.startsWith("GROUP"), true);
  });
});

describe("logbook stream --url", () => {
  test("add, range, groups, pending and tail -f against a running server", async () => {
    const s = await startTestServer({ tokens: [{ token: TOKEN, tenant: "acme" }] });
    try {
      const url = ["--url", s.url, "--token", TOKEN];
      assert.equal((await runAsync("stream", "add", ...url, "events", "kind", "open", "--id", "1-0")).stdout, "1-0\n");
      const listed = await s.call("GET", "/v1/streams/events/entries", { token: TOKEN });
      assert.deepEqual(listed.json.entries, [{ id: "1-0", fields: [["kind", "open"]] }]);
      assert.equal((await runAsync("stream", "range", ...url, "events")).stdout, '1-0\tkind="open"\n');
      await s.call("PUT", "/v1/streams/events/groups/g", { json: { start: "0" }, token: TOKEN });
      await s.call("POST", "/v1/streams/events/groups/g/read", { json: { consumer: "c" }, token: TOKEN });
      assert.match((await runAsync("stream", "groups", ...url, "events")).stdout, /^g\s+1\s+1\s+1-0/m);
      assert.match((await runAsync("stream", "pending", ...url, "events", "g")).stdout, /^1 pending, 1-0 to 1-0\nCONSUMER/);
      const noToken = await runAsync("stream", "range", "--url", s.url, "events");
      assert.equal(noToken.code, 2);
      assert.match(noToken.stderr, /LOGBOOK_UNAUTHORIZED/);
      assert.equal(
        await followedLine(s.url, () =>
          s.call("POST", "/v1/streams/events/entries", {
            json: { fields: { kind: "close" }, id: "2-0" },
            token: TOKEN,
          }),
        ),
        '2-0\tkind="close"',
      );
    } finally {
      await s.stop();
    }
  });
});

/** Runs `tail -f --url`, calls `add` once the last entry is printed, and resolves the next line printed. */
async function followedLine(url: string, add: () => Promise<unknown>): Promise<string> {
  const child = spawn(process.execPath, [CLI, "stream", "tail", "--url", url, "--token", TOKEN, "events", "-f"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("tail -f printed nothing new in time")), FOLLOW_WAIT_MS);
      let printed = "";
      child.stderr.on("data", (chunk: Buffer) => reject(new Error(chunk.toString())));
      child.stdout.on("data", (chunk: Buffer) => {
        printed += chunk.toString();
        const lines = printed.split("\n").filter((line) => line.length > 0);
        if (lines.length === 1 && printed.endsWith("\n")) add().catch(reject);
        if (lines.length >= 2) {
          clearTimeout(timer);
          resolve(lines[1] as string);
        }
      });
    });
  } finally {
    child.kill("SIGTERM");
  }
}
