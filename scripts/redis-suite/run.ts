/**
 * Redis's own test suite (7.0.15, from Debian's source package: fetch.sh) run in external mode
 * against Debian's redis-server, the reference, and against `logbook serve`, then compared:
 * of the tests that pass against Redis, how many pass against Logbook.
 *
 *   node --import tsx scripts/redis-suite/run.ts [--targets redis,logbook] [--unit unit/type/string ...]
 *        [--out DIR] [--suite-dir DIR] [--skip-list FILE] [--unit-timeout-s N] [--goal 0.95] [--check]
 *
 * Each unit runs in its own runtest (see runtest.ts); a target's units share one server, started
 * again when it dies (servers.ts). Logbook needs a build (dist/). Tests on the skip list
 * (skip-list.txt) are skipped against Logbook only, and count as not passed. Prints
 * "N passed, N failed" per unit and target and the headline, and writes DIR/result.json (DIR also
 * keeps each unit's runtest output and each server's log).
 * Environment: LOGBOOK_REDIS_SUITE_DIR (where fetch.sh keeps the suite), LOGBOOK_REDIS_SERVER (the
 * reference binary, default redis-server on PATH).
 * Exit status: 0 (with --check: and the goal met), 1 otherwise, 2 when the suite or redis-server
 * cannot be had.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  type Comparison,
  compare,
  headline,
  summarizeTarget,
  summarizeUnit,
  type TargetResult,
  targetLine,
  type UnitSummary,
  unitLine,
} from "./compare.js";
import { RUNTEST_TAGS, runUnit, SUITE_UNITS, type UnitRun } from "./runtest.js";
import { redisServerVersion, startTarget, type TargetName, type TargetServer } from "./servers.js";
import { entryMatches, readSkipList, type SkipEntry } from "./skip-list.js";
import { ensureSuite, REDIS_SUITE_VERSION, SuiteUnavailable } from "./suite.js";

export interface SuiteOptions {
  targets: TargetName[];
  units: string[];
  /** Receives result.json and each unit's logs. */
  outDir: string;
  suiteDir: string | undefined;
  skipListPath: string;
  repoDir: string;
  redisServer: string;
  goal: number;
  unitTimeoutMs: number;
  noProgressTimeoutS: number;
  log: (line: string) => void;
}

export interface SuiteResult {
  redisSuiteVersion: string;
  suiteDir: string;
  runtestTags: string;
  startedAt: string;
  targets: Partial<Record<TargetName, TargetResult>>;
  comparison: Comparison | undefined;
  skipList: SkipEntry[];
  /** Skip-list entries that matched no test: stale names. */
  unusedSkipEntries: SkipEntry[];
  resultFile: string;
}

const SERVER_READY_MS = 30_000;
const ABORT_LINES_SHOWN = 12;
const MISSED_SHOWN_PER_UNIT = 30;

const indent = (text: string) => text.replace(/^/gm, "    ");

export const REPO_DIR = fileURLToPath(new URL("../../", import.meta.url));

export function defaultOptions(overrides: Partial<SuiteOptions> = {}): SuiteOptions {
  return {
    targets: ["redis", "logbook"],
    units: [...SUITE_UNITS],
    outDir: overrides.outDir ?? mkdtempSync(join(tmpdir(), "logbook-redis-suite-")),
    suiteDir: undefined,
    skipListPath: fileURLToPath(new URL("./skip-list.txt", import.meta.url)),
    repoDir: REPO_DIR,
    redisServer: process.env.LOGBOOK_REDIS_SERVER ?? "redis-server",
    goal: 0.95,
    unitTimeoutMs: 900_000,
    noProgressTimeoutS: 240,
    log: (line) => console.log(`redis-suite: ${line}`),
    ...overrides,
  };
}

/** Throws SuiteUnavailable when the suite or redis-server cannot be had. */
export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const suiteDir = ensureSuite(options.suiteDir);
  const skipList = readSkipList(options.skipListPath);
  const redisVersion = redisServerVersion(options.redisServer);
  if (options.targets.includes("redis") && redisVersion === undefined) {
    throw new SuiteUnavailable(`${options.redisServer} --version failed: Debian's redis-server is needed as the reference`);
  }
  if (redisVersion !== undefined && redisVersion !== REDIS_SUITE_VERSION) {
    options.log(`warning: ${options.redisServer} is ${redisVersion}, the suite is ${REDIS_SUITE_VERSION}`);
  }
  const result: SuiteResult = {
    redisSuiteVersion: REDIS_SUITE_VERSION,
    suiteDir,
    runtestTags: RUNTEST_TAGS,
    startedAt: new Date().toISOString(),
    targets: {},
    comparison: undefined,
    skipList,
    unusedSkipEntries: [],
    resultFile: join(options.outDir, "result.json"),
  };
  for (const target of options.targets) {
    const description = target === "redis" ? `redis-server ${redisVersion}` : "logbook serve, dist/cli/main.js";
    result.targets[target] = await runTarget(target, description, suiteDir, target === "logbook" ? skipList : [], options);
  }
  const { redis, logbook } = result.targets;
  if (logbook !== undefined) result.unusedSkipEntries = unusedEntries(skipList, logbook);
  if (redis !== undefined && logbook !== undefined) result.comparison = compare(redis, logbook, options.goal);
  report(result, options.log);
  writeFileSync(result.resultFile, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

async function runTarget(
  target: TargetName,
  description: string,
  suiteDir: string,
  skipList: SkipEntry[],
  options: SuiteOptions,
): Promise<TargetResult> {
  const started = Date.now();
  const units: UnitSummary[] = [];
  const servers = new TargetServers(target, options);
  try {
    for (const unit of options.units) {
      const summary = await runOneUnit(unit, servers, suiteDir, skipList, options);
      options.log(`[${target}] ${unitLine(summary)}`);
      for (const reason of summary.aborted) options.log(indent(reason.split("\n").slice(0, ABORT_LINES_SHOWN).join("\n")));
      units.push(summary);
    }
  } finally {
    await servers.stop();
  }
  return summarizeTarget(target, description, units, Date.now() - started);
}

/**
 * The server a target's units share (runtest flushes it at the start of every block), started
 * again, in a new directory, only when it has died.
 */
class TargetServers {
  private server: TargetServer | undefined;
  private dataDir: string | undefined;
  private starts = 0;

  constructor(
    readonly target: TargetName,
    private readonly options: SuiteOptions,
  ) {}

  async running(): Promise<TargetServer> {
    if (this.server !== undefined && this.server.unexpectedExit() === undefined) return this.server;
    await this.stop();
    const dir = join(this.options.outDir, this.target, `server-${++this.starts}`);
    mkdirSync(dir, { recursive: true });
    this.dataDir = join(dir, "data");
    const { repoDir, redisServer } = this.options;
    this.server = await startTarget(this.target, { dir, repoDir, redisServer, readyTimeoutMs: SERVER_READY_MS }).catch(
      (error: Error) => {
        throw new Error(`the server did not start: ${error.message}`);
      },
    );
    return this.server;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
    if (this.dataDir !== undefined) rmSync(this.dataDir, { recursive: true, force: true });
    this.dataDir = undefined;
  }
}

async function runOneUnit(
  unit: string,
  servers: TargetServers,
  suiteDir: string,
  skipList: SkipEntry[],
  options: SuiteOptions,
): Promise<UnitSummary> {
  const dir = join(options.outDir, servers.target);
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  try {
    const server = await servers.running();
    const skipNames = skipList.filter((entry) => entry.unit === unit).map((entry) => entry.name);
    const run = await runUnit({ ...options, suiteDir, unit, port: server.port, skipNames, dir });
    const extra = { blockErrors: run.report.blockErrors, runtestLog: run.logFile, serverLog: server.logFile };
    const aborted = abortReasons(run, server, options);
    return summarizeUnit(unit, run.report.tests, { ...extra, aborted, durationMs: Date.now() - started });
  } catch (error) {
    const extra = { blockErrors: [], runtestLog: undefined, serverLog: undefined };
    return summarizeUnit(unit, [], { ...extra, aborted: [(error as Error).message], durationMs: Date.now() - started });
  }
}

/** Why a unit ended before its end, if it did: each reason on its own. */
function abortReasons(run: UnitRun, server: TargetServer, options: SuiteOptions): string[] {
  const aborted: string[] = [];
  const exit = server.unexpectedExit();
  if (exit !== undefined) aborted.push(`the server ${exit} during the unit; its log:\n${server.logExcerpt()}`);
  if (run.report.exception !== undefined) aborted.push(`runtest exception: ${run.report.exception}`);
  if (run.report.timedOut) aborted.push(`runtest saw no progress for ${options.noProgressTimeoutS} s and gave up`);
  if (run.killedAfterMs !== undefined) aborted.push(`the harness killed runtest after ${Math.round(run.killedAfterMs / 1000)} s`);
  if (aborted.length === 0 && !run.report.doneUnits.includes(run.unit)) {
    aborted.push(`runtest exited (${run.exitCode}) before the unit's end`);
  }
  return aborted;
}

/** Skip-list entries that matched no test of a unit that ran to its end. */
function unusedEntries(skipList: SkipEntry[], logbook: TargetResult): SkipEntry[] {
  return skipList.filter((entry) => {
    const unit = logbook.units.find((candidate) => candidate.unit === entry.unit);
    if (unit === undefined || unit.aborted.length > 0) return false;
    return !unit.tests.some((test) => test.outcome === "skip" && entryMatches(entry, test.name));
  });
}

function report(result: SuiteResult, log: (line: string) => void): void {
  for (const target of Object.values(result.targets)) log(targetLine(target));
  for (const entry of result.unusedSkipEntries)
    log(`skip-list line ${entry.line} matched no test: ${entry.unit} | ${entry.name}`);
  const comparison = result.comparison;
  if (comparison === undefined) return;
  for (const unit of new Set(comparison.missed.map((missed) => missed.unit))) {
    const missed = comparison.missed.filter((test) => test.unit === unit);
    log(`not passed against Logbook in ${unit}: ${missed.length}`);
    for (const test of missed.slice(0, MISSED_SHOWN_PER_UNIT)) {
      const why = test.detail === undefined ? "" : `: ${test.detail.split("\n")[0]}`;
      log(`  ${test.outcome}: ${test.name}${why}`);
    }
    if (missed.length > MISSED_SHOWN_PER_UNIT) log(`  … and ${missed.length - MISSED_SHOWN_PER_UNIT} more (see result.json)`);
  }
  log(headline(comparison));
  log(`results: ${result.resultFile}`);
}

function cliOptions(): SuiteOptions & { check: boolean } {
  const { values } = parseArgs({
    options: {
      targets: { type: "string" },
      unit: { type: "string", multiple: true },
      out: { type: "string" },
      "suite-dir": { type: "string" },
      "skip-list": { type: "string" },
      "unit-timeout-s": { type: "string" },
      goal: { type: "string" },
      check: { type: "boolean", default: false },
    },
  });
  const targets = (values.targets ?? "redis,logbook").split(",").map((name) => name.trim());
  for (const name of targets) if (name !== "redis" && name !== "logbook") throw new Error(`unknown target "${name}"`);
  const overrides: Partial<SuiteOptions> = { targets: targets as TargetName[] };
  if (values.unit !== undefined) overrides.units = values.unit;
  if (values.out !== undefined) overrides.outDir = values.out;
  if (values["suite-dir"] !== undefined) overrides.suiteDir = values["suite-dir"];
  if (values["skip-list"] !== undefined) overrides.skipListPath = values["skip-list"];
  if (values["unit-timeout-s"] !== undefined) overrides.unitTimeoutMs = Number(values["unit-timeout-s"]) * 1000;
  if (values.goal !== undefined) overrides.goal = Number(values.goal);
  if (values.out !== undefined) mkdirSync(values.out, { recursive: true });
  return { ...defaultOptions(overrides), check: values.check };
}

async function main(): Promise<number> {
  const options = cliOptions();
  try {
    const result = await runSuite(options);
    if (!options.check || result.comparison === undefined) return 0;
    return result.comparison.ratio >= result.comparison.goal ? 0 : 1;
  } catch (error) {
    if (!(error instanceof SuiteUnavailable)) throw error;
    console.error(`redis-suite: ${error.message}`);
    return 2;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main();
}
