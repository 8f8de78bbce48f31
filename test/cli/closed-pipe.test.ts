/**
 * A command whose output is a pipe closed by its reader (`logbook log dump DIR | head`) stops
 * quietly: no stack on stderr, and the exit code a shell reports for a process ended by
 * SIGPIPE (README, "CLI").
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Log, Store } from "../../src/index.js";
import { bytes, tempDir } from "../support/temp.js";

// The CLI is tested as users run it: the built executable (npm test builds first).
const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const CLOSED_PIPE_EXIT = 141;
/** Far more output than a pipe buffers (64 KiB on Linux), so the command is still printing when the pipe closes. */
const RECORDS = 20_000;
const EXIT_WAIT_MS = 20_000;

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  firstLine: string;
  stderr: string;
}

/** Runs the CLI with stdout a pipe, closes the pipe once the first line has arrived, and waits for the exit. */
function runAndCloseAfterFirstLine(args: string[]): Promise<Ended> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`logbook ${args.join(" ")} did not exit within ${EXIT_WAIT_MS} ms of its pipe closing`));
    }, EXIT_WAIT_MS);
    let stdout = "";
    let firstLine = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const newline = stdout.indexOf("\n");
      if (newline >= 0 && firstLine === "") {
        firstLine = stdout.slice(0, newline);
        child.stdout.destroy();
      }
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, firstLine, stderr });
    });
  });
}

describe("logbook CLI on a closed pipe", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ path: dir, cleanup } = await tempDir());
  });
  afterEach(async () => {
    await cleanup();
  });

  test("log dump into a pipe closed after the first line exits 141 with nothing on stderr", async () => {
    {
      await using log = await Log.open(dir, { sync: "none" });
      await log.appendBatch(Array.from({ length: RECORDS }, (_, i) => bytes(`record ${i}`)));
    }
    const ended = await runAndCloseAfterFirstLine(["log", "dump", dir]);
    assert.equal(ended.firstLine, '1\t8\t"record 0"');
    assert.equal(ended.stderr, "");
    assert.equal(ended.signal, null);
    assert.equal(ended.code, CLOSED_PIPE_EXIT);
  });

  test("store scan into a pipe closed after the first line exits 141 with nothing on stderr", async () => {
    {
      await using db = await Store.open(dir, { sync: "none" });
      await db.batch(
        Array.from({ length: RECORDS }, (_, i) => ({ type: "put", key: `key-${String(i).padStart(6, "0")}`, value: i })),
      );
    }
    const ended = await runAndCloseAfterFirstLine(["store", "scan", "--raw", dir]);
    assert.equal(ended.firstLine, "key-000000\t0\t1");
    assert.equal(ended.stderr, "");
    assert.equal(ended.signal, null);
    assert.equal(ended.code, CLOSED_PIPE_EXIT);
  });
});
