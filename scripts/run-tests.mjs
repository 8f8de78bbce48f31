// Runs every test file under test/ with node's test runner and the tsx loader (node 20's
// runner does not discover .ts files by itself), then the store's tests once more over the
// in-memory log. Extra arguments filter files by substring.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "support" ? [] : find(path);
    return name.endsWith(".test.ts") ? [path] : [];
  });
}

const filters = process.argv.slice(2);
const files = find("test")
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const run = (testFiles, env = process.env) =>
  spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...testFiles], {
    stdio: "inherit",
    env,
  }).status ?? 1;

// The store's tests that open stores (through test/support/store-log.ts) run a second time over
// the in-memory log: the store reaches either log through one seam and must keep its guarantees on both.
const overMemoryLog = files.filter(
  (file) => file.startsWith(join("test", "store")) && readFileSync(file, "utf8").includes("support/store-log.js"),
);
let status = run(files);
if (overMemoryLog.length > 0) {
  console.log(`# the store's tests again over the in-memory log (LOGBOOK_TEST_LOG=memory): ${overMemoryLog.length} files`);
  status = Math.max(status, run(overMemoryLog, { ...process.env, LOGBOOK_TEST_LOG: "memory" }));
}
process.exit(status);
