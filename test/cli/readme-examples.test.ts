/**
 * The README's runnable examples, run as written: every fenced JavaScript or TypeScript block
 * that begins with an `import` from "logbook" is saved as a plain .mjs file (with "logbook"
 * pointing at the built dist/index.js) and run by this Node, in a fresh directory. So each
 * must be JavaScript that this Node runs, and must not throw.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tempDir } from "../support/temp.js";

const README = fileURLToPath(new URL("../../README.md", import.meta.url));
const DIST_INDEX = pathToFileURL(fileURLToPath(new URL("../../dist/index.js", import.meta.url))).href;
const DIST_TESTING = pathToFileURL(fileURLToPath(new URL("../../dist/testing/index.js", import.meta.url))).href;

interface Example {
  line: number;
  code: string;
}

/** Fenced js/mjs/ts blocks whose first line imports from "logbook", with their README line. */
function runnableExamples(markdown: string): Example[] {
  const examples: Example[] = [];
  const fence = /^```(js|mjs|javascript|ts|typescript)\n([\s\S]*?)^```$/gm;
  for (let match = fence.exec(markdown); match !== null; match = fence.exec(markdown)) {
    const code = match[2] as string;
    if (!/^import .* from "logbook";/.test(code)) continue;
    examples.push({ line: markdown.slice(0, match.index).split("\n").length, code });
  }
  return examples;
}

test("the README's Log and Store examples run as written, as plain JavaScript on this Node", async () => {
  const examples = runnableExamples(readFileSync(README, "utf8"));
  const imported = examples.map((example) => /^import \{ (\w+)/.exec(example.code)?.[1]);
  assert.ok(imported.includes("Log"), "the README has a runnable Log example");
  assert.ok(imported.includes("Store"), "the README has a runnable Store example");
  for (const example of examples) {
    const temp = await tempDir("logbook-readme-");
    try {
      const file = join(temp.path, "example.mjs");
      const code = example.code
        .replace(/from "logbook";/g, `from ${JSON.stringify(DIST_INDEX)};`)
        .replace(/from "logbook\/testing";/g, `from ${JSON.stringify(DIST_TESTING)};`);
      writeFileSync(file, code);
      const result = spawnSync(process.execPath, [file], { cwd: temp.path, encoding: "utf8", timeout: 30_000 });
      assert.equal(result.status, 0, `README.md line ${example.line} failed:\n${result.stderr}`);
      assert.equal(result.stderr, "", `README.md line ${example.line} printed to stderr`);
    } finally {
      await temp.cleanup();
    }
  }
  process.stdout.write(`README examples run: ${examples.length} (${imported.join(", ")})\n`);
});
