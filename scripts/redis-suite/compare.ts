/**
 * Counts per unit and per target, and the headline: of the tests that pass against Redis, how
 * many pass against Logbook. A test counts as passed only with an [ok] line; a test skipped by
 * the skip list, failed, or never run (its unit or block cut short) counts as not passed.
 * Test names may repeat within a unit (one test body run in a loop), so tests are matched by
 * (unit, name, occurrence).
 */
import type { TestResult } from "./runtest-output.js";
import type { TargetName } from "./servers.js";

export interface UnitSummary {
  unit: string;
  passed: number;
  failed: number;
  skipped: number;
  ignored: number;
  /** start_server blocks that failed outside any test. */
  blockErrors: string[];
  /** Why the unit stopped early: runtest's exception, its timeout, the harness's kill, or a server that died. */
  aborted: string[];
  durationMs: number;
  runtestLog: string | undefined;
  serverLog: string | undefined;
  tests: TestResult[];
}

export interface TargetResult {
  target: TargetName;
  /** What the target calls itself: redis-server's version, or the Logbook command. */
  description: string;
  units: UnitSummary[];
  passed: number;
  failed: number;
  skipped: number;
  ignored: number;
  durationMs: number;
}

export interface MissedTest {
  unit: string;
  name: string;
  /** err: failed; skip: on the skip list; not run: absent from the output (its unit or block was cut short). */
  outcome: "err" | "skip" | "not run";
  detail?: string;
}

export interface Comparison {
  /** Tests that pass against Redis. */
  reference: number;
  /** Of those, the ones that pass against Logbook. */
  passed: number;
  /** passed / reference: skipped tests counted as not passed. */
  ratio: number;
  /** passed / (reference - skipped): the goal's measure, over the tests not on the committed skip list. */
  ratioRun: number;
  goal: number;
  /** Of the reference's passing tests, those on the skip list (inside `missed` too). */
  skipped: number;
  missed: MissedTest[];
  /** Tests that pass against Logbook but not against Redis (worth a look: usually timing). */
  passedOnlyByCandidate: { unit: string; name: string }[];
}

export function summarizeUnit(
  unit: string,
  tests: TestResult[],
  extra: Omit<UnitSummary, "unit" | "tests" | "passed" | "failed" | "skipped" | "ignored">,
): UnitSummary {
  const count = (outcome: TestResult["outcome"]) => tests.filter((test) => test.outcome === outcome).length;
  return { unit, passed: count("ok"), failed: count("err"), skipped: count("skip"), ignored: count("ignore"), tests, ...extra };
}

export function summarizeTarget(target: TargetName, description: string, units: UnitSummary[], durationMs: number): TargetResult {
  const sum = (field: "passed" | "failed" | "skipped" | "ignored") => units.reduce((total, unit) => total + unit[field], 0);
  return {
    target,
    description,
    units,
    passed: sum("passed"),
    failed: sum("failed"),
    skipped: sum("skipped"),
    ignored: sum("ignored"),
    durationMs,
  };
}

/** Each test of a target under a key "unit \0 name \0 occurrence". */
function keyed(result: TargetResult): Map<string, TestResult & { unit: string }> {
  const map = new Map<string, TestResult & { unit: string }>();
  for (const unit of result.units) {
    const seen = new Map<string, number>();
    for (const test of unit.tests) {
      if (test.outcome === "ignore") continue;
      const occurrence = seen.get(test.name) ?? 0;
      seen.set(test.name, occurrence + 1);
      map.set(`${unit.unit}\u0000${test.name}\u0000${occurrence}`, { ...test, unit: unit.unit });
    }
  }
  return map;
}

export function compare(reference: TargetResult, candidate: TargetResult, goal: number): Comparison {
  const ours = keyed(candidate);
  const theirs = keyed(reference);
  const missed: MissedTest[] = [];
  let referencePassed = 0;
  let passed = 0;
  for (const [key, test] of theirs) {
    if (test.outcome !== "ok") continue;
    referencePassed++;
    const mine = ours.get(key);
    if (mine?.outcome === "ok") {
      passed++;
    } else if (mine === undefined) {
      missed.push({ unit: test.unit, name: test.name, outcome: "not run" });
    } else {
      const outcome = mine.outcome === "skip" ? "skip" : "err";
      missed.push({ unit: test.unit, name: test.name, outcome, ...(mine.detail === undefined ? {} : { detail: mine.detail }) });
    }
  }
  const passedOnlyByCandidate = [...ours]
    .filter(([key, test]) => test.outcome === "ok" && theirs.get(key)?.outcome !== "ok")
    .map(([, test]) => ({ unit: test.unit, name: test.name }));
  const ratio = referencePassed === 0 ? 0 : passed / referencePassed;
  const skipped = missed.filter((test) => test.outcome === "skip").length;
  const run = referencePassed - skipped;
  const ratioRun = run === 0 ? 0 : passed / run;
  return { reference: referencePassed, passed, ratio, ratioRun, goal, skipped, missed, passedOnlyByCandidate };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** "N passed, N failed" with skipped, ignored and the abort reasons when there are any. */
export function unitLine(unit: UnitSummary): string {
  let line = `${unit.unit}: ${unit.passed} passed, ${unit.failed} failed`;
  if (unit.skipped > 0) line += `, ${unit.skipped} skipped (skip list)`;
  line += `, ${unit.ignored} ignored by tags/mode (${seconds(unit.durationMs)})`;
  if (unit.blockErrors.length > 0) line += `; ${unit.blockErrors.length} block(s) cut short`;
  for (const reason of unit.aborted) line += `; ABORTED: ${reason.split("\n")[0]}`;
  return line;
}

export function targetLine(result: TargetResult): string {
  const skipped = result.skipped > 0 ? `, ${result.skipped} skipped (skip list)` : "";
  return `${result.target} (${result.description}): ${result.passed} passed, ${result.failed} failed${skipped} in ${seconds(result.durationMs)}`;
}

const percent = (part: number, whole: number) => `${whole === 0 ? "0.0" : ((part / whole) * 100).toFixed(1)}%`;

export function headline(comparison: Comparison): string {
  const verdict = comparison.ratioRun >= comparison.goal ? "goal met" : "goal NOT met";
  const run = comparison.reference - comparison.skipped;
  return (
    `${comparison.passed} of the ${run} tests that pass against Redis and are not on the skip list pass against Logbook ` +
    `(${percent(comparison.passed, run)}, goal >= ${(comparison.goal * 100).toFixed(0)}%: ${verdict}); ` +
    `${comparison.passed} of all ${comparison.reference} that pass against Redis (${percent(comparison.passed, comparison.reference)}, ` +
    `${comparison.skipped} skipped with a reason)`
  );
}
