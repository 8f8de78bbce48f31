import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const onPath = (program: string) => spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;
const missing = ["redis-benchmark", "redis-cli", "redis-server"].filter((program) => !onPath(program));
const skip =
  missing.length > 0
    ? `needs ${missing.join(", ")} (apt-get install redis-server)`
    : existsSync("dist/cli/main.js")
      ? false
      : "needs the compiled server (npm run build)";

test("bench:resp --quick prints a row per point with both systems, the ratio and the goals, and writes a chart", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "logbook-resp-bench-"));
  try {
    const svgPath = join(dir, "resp.svg");
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "bench/resp.ts",
        "--quick",
        "--tests",
        "set,get",
        "--clients",
        "1,4",
        "--pipeline",
        "1,4",
        "--dir",
        dir,
        "--svg",
        svgPath,
      ],
      { encoding: "utf8", timeout: 180_000 },
    );
    assert.equal(run.status, 0, run.stderr);
    const out = run.stdout;
    assert.match(out, /^# redis-server \(CONFIG GET\): appendonly yes, appendfsync always$/m);
    assert.match(out, /^\| test \| c \| P \| requests \| Logbook req\/s \| Redis req\/s \| Logbook ÷ Redis \| goal \|/m);
    for (const test of ["SET", "GET"]) {
      for (const [c, p] of [
        [1, 1],
        [1, 4],
        [4, 1],
        [4, 4],
      ]) {
        const row = new RegExp(
          `^\\| ${test} \\| ${c} \\| ${p} \\| [\\d,]+ \\| [\\d,]+ \\| [\\d,]+ \\| \\d+\\.\\d\\d \\| [^|]* \\| [\\d.]+ / [\\d.]+ \\| [\\d.]+ / [\\d.]+ \\|$`,
          "m",
        );
        assert.match(out, row, `a measured row for ${test} c=${c} P=${p}`);
      }
    }
    assert.match(out, /^\| SET \| 1 \| 1 \| .* \| ≥ 1: (met|\*\*not met\*\*) \|/m, "SET at one client is held against 1×");
    assert.match(out, /^\| GET \| 4 \| 4 \| .* \| ≥ 0\.8: (met|\*\*not met\*\*) \|/m, "GET is held against 0.8×");
    assert.match(out, /^- GET, every point: ≥ 0\.8× Redis: \d of 4 measured points met/m);
    const ratios = out.split("\n").filter((line) => line.includes('"figure":"ratio-vs-redis"'));
    assert.equal(ratios.length, 8, "a ratio line per point");
    assert.doesNotMatch(out, /NaN|undefined|Infinity|error:/);
    const svg = readFileSync(svgPath, "utf8");
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.ok(svg.trimEnd().endsWith("</svg>"));
    for (const label of ["SET, c=1", "GET, c=4", "-P 1", "-P 4"]) assert.ok(svg.includes(label), `the chart shows ${label}`);
    assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
    // Both servers were stopped and their data removed: only the chart is left.
    assert.deepEqual(readdirSync(dir), ["resp.svg"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
