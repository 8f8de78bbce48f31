/**
 * npm run bench:resp — Logbook's Redis endpoint against Redis, both under `redis-benchmark`
 * (docs/benchmarks.md): SET, INCR, XADD (one stream, as a custom command) and GET, 100-byte
 * values over 10,000 keys, at each client count and pipeline depth. Logbook is `logbook serve`
 * from the compiled code (dist/, so `npm run build` first; the npm script does), every write
 * durable before its reply; Redis is `redis-server` with `appendonly yes`, `appendfsync always`,
 * `save ""`, checked with CONFIG GET. Both run on this machine, in the same run, never at once:
 * for each test, a fresh server of one system takes every point of it, is killed, then a fresh
 * server of the other (the order alternates from test to test). GET's keys are written first
 * with `redis-cli --pipe`. Each server is warmed up (--warm-up-requests at 50 clients) before
 * its points.
 *
 * Options: --tests set,incr,xadd,get, --clients 1,50,256, --pipeline 1,16, --requests N (every
 * point; default: sized per point so that the full run takes a few minutes), --warm-up-requests N,
 * --quick (tiny counts, no warm-up, clients 1,50 unless given: a smoke run), --dir DIR (default
 * bench-data), --svg PATH (the ratios as a bar chart), --json-only, --install-peers
 * (apt-get install redis-server when missing; needs root). redis-benchmark and redis-cli
 * (redis-tools) are required; without redis-server only Logbook's figures are printed.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { haveRedis } from "./support/redis-peer.js";
import {
  type BenchPoint,
  defaultRequests,
  type PointOutcome,
  RESP_TESTS,
  type RespTest,
  runPoint,
} from "./support/resp-benchmark.js";
import { goalLines, markdownTable, type PointResult, pointJson, ratioJson, writeRespChart } from "./support/resp-report.js";
import {
  compiledServerExists,
  onPath,
  preloadKeyspace,
  type RespSystem,
  type RespTarget,
  redisDurability,
  startTarget,
  stopTarget,
} from "./support/resp-servers.js";
import { commandLine, machineLine } from "./support/run-caption.js";

const { values } = parseArgs({
  options: {
    tests: { type: "string", default: RESP_TESTS.join(",") },
    clients: { type: "string" },
    pipeline: { type: "string", default: "1,16" },
    requests: { type: "string" },
    "warm-up-requests": { type: "string" },
    quick: { type: "boolean", default: false },
    dir: { type: "string", default: "bench-data" },
    svg: { type: "string" },
    "json-only": { type: "boolean", default: false },
    "install-peers": { type: "boolean", default: false },
  },
});

function positiveIntegers(name: string, text: string): number[] {
  const list = text.split(",").map(Number);
  if (list.length === 0 || !list.every((n) => Number.isSafeInteger(n) && n > 0)) {
    throw new Error(`--${name} must list positive integers, got ${text}`);
  }
  return list;
}

function parseTests(text: string): RespTest[] {
  const tests = text.split(",").map((t) => t.trim().toLowerCase());
  for (const test of tests) {
    if (!(RESP_TESTS as readonly string[]).includes(test)) throw new Error(`--tests takes ${RESP_TESTS.join(",")}; got ${test}`);
  }
  return tests as RespTest[];
}

const quick = values.quick;
const tests = parseTests(values.tests);
const clientCounts = positiveIntegers("clients", values.clients ?? (quick ? "1,50" : "1,50,256"));
const pipelines = positiveIntegers("pipeline", values.pipeline);
const fixedRequests = values.requests === undefined ? undefined : (positiveIntegers("requests", values.requests)[0] as number);
const warmUpRequests = Number(values["warm-up-requests"] ?? (quick ? 0 : 5_000));
if (!Number.isSafeInteger(warmUpRequests) || warmUpRequests < 0) throw new Error("--warm-up-requests must be an integer ≥ 0");

function pointsOf(test: RespTest): BenchPoint[] {
  return clientCounts.flatMap((clients) =>
    pipelines.map((pipeline) => ({
      test,
      clients,
      pipeline,
      requests: fixedRequests ?? defaultRequests(test, clients, pipeline, quick),
    })),
  );
}

/** The server running now, killed by pid if this process exits on an error or a signal. */
let running: RespTarget | undefined;
process.on("exit", () => {
  if (running?.child.pid !== undefined && running.child.exitCode === null) running.child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

/** Every point of `test` on a fresh server of `system`; a failure to start or preload fails them all. */
async function measure(system: RespSystem, test: RespTest, root: string, results: PointResult[]): Promise<void> {
  const mine = results.filter((r) => r.point.test === test);
  const record = (result: PointResult, outcome: PointOutcome) => {
    result[system] = outcome;
    console.log(pointJson(result.point, system, outcome));
  };
  try {
    running = await startTarget(system, join(root, `${system}-${test}`));
    if (system === "redis") {
      const { appendonly, appendfsync } = redisDurability(running.port);
      console.log(`# redis-server (CONFIG GET): appendonly ${appendonly}, appendfsync ${appendfsync}`);
    }
    if (test === "get") preloadKeyspace(running.port);
    if (warmUpRequests > 0) {
      const warm = runPoint({ test, clients: 50, pipeline: 1, requests: warmUpRequests }, running.port);
      if (!warm.ok) throw new Error(warm.error);
    }
    for (const result of mine) record(result, runPoint(result.point, running.port));
  } catch (error) {
    const outcome: PointOutcome = { ok: false, error: (error as Error).message };
    for (const result of mine) if (result[system] === undefined) record(result, outcome);
  } finally {
    if (running !== undefined) await stopTarget(running);
    running = undefined;
  }
}

async function main(): Promise<void> {
  for (const tool of ["redis-benchmark", "redis-cli"]) {
    if (!onPath(tool)) throw new Error(`bench:resp needs ${tool} (apt-get install redis-tools)`);
  }
  if (!compiledServerExists()) throw new Error("bench:resp serves dist/: run `npm run build` first");
  const withRedis = onPath("redis-server") || (values["install-peers"] && haveRedis(true));
  mkdirSync(values.dir, { recursive: true });
  const root = mkdtempSync(join(values.dir, "resp-"));
  console.log(`# bench:resp — ${commandLine()}`);
  console.log(`# ${machineLine()}, dir ${root}`);
  if (!withRedis) console.log(JSON.stringify({ bench: "resp", peer: "redis", skipped: "redis-server is not installed" }));
  const results: PointResult[] = tests.flatMap(pointsOf).map((point) => ({ point, logbook: undefined, redis: undefined }));
  try {
    for (const [i, test] of tests.entries()) {
      const order: RespSystem[] = i % 2 === 0 ? ["redis", "logbook"] : ["logbook", "redis"];
      for (const system of order) if (system === "logbook" || withRedis) await measure(system, test, root, results);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  for (const result of results) if (withRedis) console.log(ratioJson(result));
  if (values.svg !== undefined) writeRespChart(values.svg, results);
  if (values["json-only"]) return;
  console.log(`\nredis-benchmark -d 100 -r 10000 over 127.0.0.1; every write durable (fdatasync) before its reply on both`);
  for (const line of markdownTable(results)) console.log(line);
  if (withRedis) {
    console.log("\nGoals (Logbook ÷ Redis):");
    for (const line of goalLines(results)) console.log(line);
  }
}

await main();
