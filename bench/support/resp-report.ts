/**
 * What bench:resp prints and charts: a JSON line per figure, a Markdown table with a row per
 * point (both systems' rates and latencies, Logbook over Redis, the goal the point is held
 * against), the goals' tally, and (--svg) a bar chart of the ratios.
 */
import { type BenchPoint, isWriteTest, type PointOutcome, type RespTest } from "./resp-benchmark.js";
import type { RespSystem } from "./resp-servers.js";
import { runCaption } from "./run-caption.js";
import { type Bar, writeBarChart } from "./svg-chart.js";

export interface PointResult {
  point: BenchPoint;
  logbook: PointOutcome | undefined;
  redis: PointOutcome | undefined;
}

/** Durable writes without a pipeline: at least Redis at one client, half again as fast under load. */
const WRITE_GOAL_ONE_CLIENT = 1;
const WRITE_GOAL_LOADED = 1.5;
const WRITE_GOAL_CLIENTS = [50, 256];
const GET_GOAL = 0.8;

/** The ratio (Logbook ÷ Redis) a point is held against; undefined: no goal for it. */
export function goalFor(point: BenchPoint): number | undefined {
  if (!isWriteTest(point.test)) return GET_GOAL;
  if (point.pipeline !== 1) return undefined;
  if (point.clients === 1) return WRITE_GOAL_ONE_CLIENT;
  return WRITE_GOAL_CLIENTS.includes(point.clients) ? WRITE_GOAL_LOADED : undefined;
}

/** Logbook's rate over Redis's; NaN when either failed or did not run. */
export function ratioOf(result: PointResult): number {
  const { logbook, redis } = result;
  if (!logbook?.ok || !redis?.ok) return Number.NaN;
  return logbook.figures.requestsPerSecond / redis.figures.requestsPerSecond;
}

const label = (test: RespTest) => test.toUpperCase();
const count = (n: number) => Math.round(n).toLocaleString("en-US");
/** An error in a table cell: one line, no column breaks, cut short (the JSON line has it whole). */
const ERROR_CELL_CHARS = 60;
const cellText = (text: string) => {
  const line = text.replaceAll("|", "\\|").replaceAll("\n", " ");
  return line.length > ERROR_CELL_CHARS ? `${line.slice(0, ERROR_CELL_CHARS)}…` : line;
};

export function pointJson(point: BenchPoint, system: RespSystem, outcome: PointOutcome): string {
  const figures = outcome.ok ? outcome.figures : { error: outcome.error };
  return JSON.stringify({ bench: "resp", system, ...point, ...figures });
}

export function ratioJson(result: PointResult): string {
  const ratio = ratioOf(result);
  const goal = goalFor(result.point);
  return JSON.stringify({
    bench: "resp",
    figure: "ratio-vs-redis",
    ...result.point,
    ratio: Number.isFinite(ratio) ? Number(ratio.toFixed(3)) : null,
    goal: goal ?? null,
    met: goal === undefined || !Number.isFinite(ratio) ? null : ratio >= goal,
  });
}

function rate(outcome: PointOutcome | undefined): string {
  if (outcome === undefined) return "-";
  return outcome.ok ? count(outcome.figures.requestsPerSecond) : `error: ${cellText(outcome.error)}`;
}

function latency(outcome: PointOutcome | undefined): string {
  return outcome?.ok ? `${outcome.figures.p50Ms.toFixed(2)} / ${outcome.figures.p99Ms.toFixed(2)}` : "-";
}

function goalCell(result: PointResult): string {
  const goal = goalFor(result.point);
  if (goal === undefined) return "";
  const ratio = ratioOf(result);
  if (!Number.isFinite(ratio)) return `≥ ${goal}: -`;
  return `≥ ${goal}: ${ratio >= goal ? "met" : "**not met**"}`;
}

/** The Markdown table, a row per point, in the order the points ran. */
export function markdownTable(results: readonly PointResult[]): string[] {
  const lines = [
    "| test | c | P | requests | Logbook req/s | Redis req/s | Logbook ÷ Redis | goal | Logbook p50 / p99 ms | Redis p50 / p99 ms |",
    "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
  ];
  for (const result of results) {
    const { test, clients, pipeline, requests } = result.point;
    const ratio = ratioOf(result);
    lines.push(
      `| ${label(test)} | ${clients} | ${pipeline} | ${count(requests)} | ${rate(result.logbook)} | ${rate(result.redis)} | ` +
        `${Number.isFinite(ratio) ? ratio.toFixed(2) : "-"} | ${goalCell(result)} | ${latency(result.logbook)} | ${latency(result.redis)} |`,
    );
  }
  return lines;
}

/** One line per goal: how many of its points met it, and which did not. */
export function goalLines(results: readonly PointResult[]): string[] {
  const writes = (p: BenchPoint) => isWriteTest(p.test) && p.pipeline === 1;
  const kinds = [
    {
      name: `durable writes (SET, INCR, XADD), -P 1, c = 1: ≥ ${WRITE_GOAL_ONE_CLIENT}× Redis`,
      holds: (p: BenchPoint) => writes(p) && p.clients === 1,
    },
    {
      name: `durable writes (SET, INCR, XADD), -P 1, c = ${WRITE_GOAL_CLIENTS.join(" and ")}: ≥ ${WRITE_GOAL_LOADED}× Redis`,
      holds: (p: BenchPoint) => writes(p) && WRITE_GOAL_CLIENTS.includes(p.clients),
    },
    { name: `GET, every point: ≥ ${GET_GOAL}× Redis`, holds: (p: BenchPoint) => !isWriteTest(p.test) },
  ];
  const lines: string[] = [];
  for (const kind of kinds) {
    const held = results.filter((r) => kind.holds(r.point));
    if (held.length === 0) continue;
    const measured = held.filter((r) => Number.isFinite(ratioOf(r)));
    const missed = measured.filter((r) => ratioOf(r) < (goalFor(r.point) as number));
    const names = missed.map(
      (r) => `${label(r.point.test)} c=${r.point.clients} P=${r.point.pipeline} (${ratioOf(r).toFixed(2)})`,
    );
    lines.push(
      `- ${kind.name}: ${measured.length - missed.length} of ${measured.length} measured points met` +
        (held.length > measured.length ? `, ${held.length - measured.length} not measured` : "") +
        (names.length > 0 ? `; not met: ${names.join(", ")}` : ""),
    );
  }
  return lines;
}

/** --svg: Logbook over Redis at every point, a group per test and client count, a bar per pipeline depth. */
export function writeRespChart(path: string, results: readonly PointResult[]): void {
  const bars: Bar[] = results.map((r) => ({
    group: `${label(r.point.test)}, c=${r.point.clients}`,
    series: `-P ${r.point.pipeline}`,
    value: ratioOf(r),
  }));
  writeBarChart(path, {
    title: "bench:resp: Logbook's Redis endpoint against Redis, redis-benchmark -d 100",
    valueLabel: "requests/s ÷ Redis's",
    groupLabel: "test, clients (c); a bar per pipeline depth (-P)",
    referenceLabel: "redis-server, appendonly yes, appendfsync always, same run",
    bars,
    caption: runCaption(),
    orientation: "horizontal",
  });
}
