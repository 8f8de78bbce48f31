/**
 * Acceptance for the Redis protocol: Redis 7.0.15's own test suite (units string, incr,
 * keyspace, stream, stream-cgroups, in external mode) against Debian's redis-server and against
 * `logbook serve` (the built dist/); of the tests that pass against Redis and are not on the
 * committed skip list (scripts/redis-suite/skip-list.txt, a reason for each: they need data types
 * Logbook does not have), at least 95% pass against Logbook. The headline also gives the share
 * of all the tests that pass against Redis, skipped ones counted as not passed.
 * The suite comes from Debian's source package (scripts/redis-suite/fetch.sh). When it, tclsh
 * or redis-server cannot be had (no network, not root to install), the test skips and says
 * why, except in CI (CI=true), where that is a failure.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { headline, targetLine } from "../../scripts/redis-suite/compare.js";
import { defaultOptions, REPO_DIR, runSuite, type SuiteResult } from "../../scripts/redis-suite/run.js";
import { SuiteUnavailable } from "../../scripts/redis-suite/suite.js";

const SUITE_TIMEOUT_MS = 60 * 60_000;
const MISSED_SHOWN_MAX = 40;

test("Redis's own suite: at least 95% of the tests that pass against Redis pass against Logbook", {
  timeout: SUITE_TIMEOUT_MS,
}, async (t) => {
  assert.ok(
    existsSync(join(REPO_DIR, "dist", "cli", "main.js")),
    "dist/cli/main.js is missing: run npm run build (npm test does)",
  );
  const outDir = mkdtempSync(join(tmpdir(), "logbook-redis-suite-"));
  let result: SuiteResult;
  try {
    result = await runSuite(defaultOptions({ outDir, log: (line) => console.log(`# redis-suite: ${line}`) }));
  } catch (error) {
    rmSync(outDir, { recursive: true, force: true });
    if (error instanceof SuiteUnavailable && process.env.CI !== "true") {
      t.skip(`Redis's suite cannot run here: ${error.message}`);
      return;
    }
    throw error;
  }
  const comparison = result.comparison!;
  for (const target of Object.values(result.targets)) t.diagnostic(targetLine(target));
  t.diagnostic(headline(comparison));
  const missed = comparison.missed
    .slice(0, MISSED_SHOWN_MAX)
    .map((m) => `  ${m.outcome}: ${m.unit}: ${m.name}${m.detail === undefined ? "" : ` (${m.detail.split("\n")[0]})`}`);
  assert.ok(
    comparison.ratioRun >= comparison.goal,
    `${headline(comparison)}\nnot passed against Logbook (first ${MISSED_SHOWN_MAX}):\n${missed.join("\n")}\nlogs: ${outDir}`,
  );
  rmSync(outDir, { recursive: true, force: true });
});
