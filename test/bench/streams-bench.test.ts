import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

test("bench:streams --quick prints every part with its ratio and writes a valid chart", () => {
  const dir = mkdtempSync(join(tmpdir(), "logbook-streams-bench-"));
  try {
    const svgPath = join(dir, "streams.svg");
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", "--expose-gc", "bench/streams.ts", "--quick", "--concurrency", "1,16", "--dir", dir, "--svg", svgPath],
      { encoding: "utf8", timeout: 120_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const out = run.stdout;
    for (const heading of [
      "## adds against puts",
      "## consumer group read + ack",
      "## reading from the start",
      "## one big stream",
    ]) {
      assert.ok(out.includes(heading), `the report has ${heading}`);
    }
    assert.match(out, /^\| 16 \| [\d,]+ \| [\d,]+ \| \d+\.\d\d \[/m, "the adds row has both rates and the ratio");
    assert.match(out, /\| RSS after reopening \| \d+ MiB \|/);
    assert.match(out, /\| index bytes per entry \(reopened\) \| \d+\.\d\d \|/);
    assert.doesNotMatch(out, /NaN|undefined|Infinity/);
    const svg = readFileSync(svgPath, "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
    for (const label of ["adds ÷ puts, c=1", "group read + ack ÷ plain read", "scan from the start", "checkpoint time at"]) {
      assert.ok(svg.includes(label), `the chart shows ${label}`);
    }
    // The run cleans up after itself: only the chart is left in its directory.
    assert.deepEqual(readdirSync(dir), ["streams.svg"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
