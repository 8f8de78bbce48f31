/**
 * The server's log destination: every line pino writes arrives whole and in order, whatever
 * its length or characters, and lines still waiting in the block when the process exits
 * (by process.exit, by the event loop running dry, or after the server closed it) are written.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { LogDestination } from "../../../src/server/telemetry/log-destination.js";
import { tempDir } from "../../support/temp.js";

const DIST = resolve(fileURLToPath(import.meta.url), "../../../../dist/server/telemetry/log-destination.js");

/** A child that logs `lines` numbered lines through a LogDestination on stdout, then ends as told. */
function runChild(lines: number, ending: "exit" | "drain" | "after-close"): Promise<{ stdout: string; code: number | null }> {
  const source = `
    import { pino } from "pino";
    import { LogDestination } from ${JSON.stringify(DIST)};
    const destination = new LogDestination(1, 60_000);
    const logger = pino({ base: null }, destination);
    const last = ${ending === "after-close" ? lines - 10 : lines};
    for (let i = 0; i < last; i++) logger.info({ i, pad: "x".repeat(i % 300) }, "line");
    if (${JSON.stringify(ending)} === "after-close") {
      destination.close();
      for (let i = last; i < ${lines}; i++) logger.info({ i, pad: "" }, "line");
    }
    if (${JSON.stringify(ending)} === "exit") process.exit(0);
  `;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", source], {
      cwd: resolve(fileURLToPath(import.meta.url), "../../../.."),
      stdio: ["ignore", "pipe", "inherit"],
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolvePromise({ stdout: Buffer.concat(chunks).toString("utf8"), code });
    });
  });
}

function numbers(output: string): number[] {
  return output
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { i: number }).i);
}

describe("log destination", () => {
  test("every line arrives whole and in order: long lines, multi-byte characters, flushes between", async () => {
    const dir = await tempDir();
    try {
      const path = join(dir.path, "server.log");
      const destination = new LogDestination(path, 60_000);
      const logger = pino({ base: null }, destination);
      const expected: string[] = [];
      for (let i = 0; i < 20_000; i++) {
        // Lengths from a few bytes to 40 KiB (longer than a block), ASCII and not.
        const text = i % 997 === 0 ? "é→𝄞".repeat(3_000 + i) : `${"ab→".repeat(i % 50)}${i}`;
        expected.push(text);
        logger.info({ text }, "line");
        if (i % 3_001 === 0) destination.flush();
      }
      destination.close();
      const lines = readFileSync(path, "utf8").trimEnd().split("\n");
      assert.equal(lines.length, expected.length);
      lines.forEach((line, i) => assert.equal((JSON.parse(line) as { text: string }).text, expected[i], `line ${i}`));
    } finally {
      await dir.cleanup();
    }
  });

  for (const ending of ["exit", "drain", "after-close"] as const) {
    test(`lines still in the block are written when the process ends (${ending})`, async () => {
      const { stdout, code } = await runChild(5_000, ending);
      assert.equal(code, 0);
      assert.deepEqual(
        numbers(stdout),
        Array.from({ length: 5_000 }, (_, i) => i),
      );
    });
  }
});
