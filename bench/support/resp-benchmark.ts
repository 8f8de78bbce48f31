/**
 * bench:resp's load: one `redis-benchmark` run per point (test, clients, pipeline), its CSV
 * line read into a figure. Every test uses the same keyspace and 100-byte values, so GETs hit
 * the keys the preload wrote (resp-servers.ts) and each system gets the same commands.
 *
 * redis-benchmark 7.0 exits at the first error reply ("we now immediately exit on error"), so
 * a command a server does not know yields an error figure, never a rate of error replies.
 */
import { spawnSync } from "node:child_process";

export const RESP_TESTS = ["set", "incr", "xadd", "get"] as const;
export type RespTest = (typeof RESP_TESTS)[number];

/** Keys the tests spread over (`-r`): `key:000000000000` … as redis-benchmark's `__rand_int__` prints them. */
export const KEYSPACE = 10_000;
export const VALUE_BYTES = 100;
/** The stream every XADD appends to: one stream fed by every client, the usual producer pattern. */
export const STREAM_KEY = "bench:stream";
/** The longest one redis-benchmark run may take before it counts as hung. */
const RUN_TIMEOUT_MS = 600_000;

export interface BenchPoint {
  test: RespTest;
  clients: number;
  pipeline: number;
  requests: number;
}

export interface PointFigures {
  requestsPerSecond: number;
  avgMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** A point's outcome on one system: its figures, or why there are none. */
export type PointOutcome = { ok: true; figures: PointFigures } | { ok: false; error: string };

export function isWriteTest(test: RespTest): boolean {
  return test !== "get";
}

/**
 * The requests of a point in a full run: about 2 to 4 s per point on a 2-core VM for Redis with
 * `appendfsync always`, more for a slower server. Writes at one client wait on an fdatasync
 * each; pipelines and reads go faster and get more requests.
 */
export function defaultRequests(test: RespTest, clients: number, pipeline: number, quick: boolean): number {
  const pipelined = pipeline > 1;
  let requests: number;
  if (isWriteTest(test)) requests = clients === 1 ? (pipelined ? 40_000 : 2_000) : pipelined ? 300_000 : 40_000;
  else requests = clients === 1 ? (pipelined ? 200_000 : 10_000) : pipelined ? 1_000_000 : 100_000;
  if (!quick) return requests;
  return Math.max(200, clients * pipeline * 2, Math.round(requests / 50));
}

/** The 100-byte XADD field value: padding, then `__rand_int__` (12 digits once expanded). */
function streamValue(): string {
  return `${"x".repeat(VALUE_BYTES - 12)}__rand_int__`;
}

/** redis-benchmark's arguments for a point against `port`, CSV output. */
export function benchmarkArgs(point: BenchPoint, port: number): string[] {
  const common = [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-c",
    String(point.clients),
    "-P",
    String(point.pipeline),
    "-n",
    String(point.requests),
    "-r",
    String(KEYSPACE),
    "-d",
    String(VALUE_BYTES),
    "--csv",
  ];
  if (point.test === "xadd") return [...common, "XADD", STREAM_KEY, "*", "f", streamValue()];
  return [...common, "-t", point.test];
}

/** Runs one point; blocks until redis-benchmark is done (the servers are other processes). */
export function runPoint(point: BenchPoint, port: number): PointOutcome {
  const run = spawnSync("redis-benchmark", benchmarkArgs(point, port), {
    encoding: "utf8",
    timeout: RUN_TIMEOUT_MS,
    maxBuffer: 16 * 2 ** 20,
  });
  if (run.error !== undefined) return { ok: false, error: `redis-benchmark: ${run.error.message}` };
  const output = `${run.stdout}\n${run.stderr}`;
  const serverError = /Error from server: (.*)/.exec(output);
  if (serverError !== null) return { ok: false, error: (serverError[1] as string).trim() };
  if (run.status !== 0) return { ok: false, error: `redis-benchmark exited with ${run.status}: ${lastLine(output)}` };
  const figures = parseCsv(run.stdout);
  return figures === undefined ? { ok: false, error: `no CSV line in: ${lastLine(output)}` } : { ok: true, figures };
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return (lines[lines.length - 1] ?? "").trim().slice(0, 200);
}

/**
 * The figures of redis-benchmark 7.0's CSV output (one test per run):
 * "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
 */
export function parseCsv(output: string): PointFigures | undefined {
  const lines = output.split("\n").map((line) => line.trim());
  const header = lines.findIndex((line) => line.startsWith('"test","rps"'));
  if (header === -1) return undefined;
  const names = splitCsv(lines[header] as string);
  const row = lines.slice(header + 1).find((line) => line.startsWith('"'));
  if (row === undefined) return undefined;
  const cells = splitCsv(row);
  const cell = (name: string) => {
    const at = names.indexOf(name);
    return at === -1 ? Number.NaN : Number(cells[at]);
  };
  const figures: PointFigures = {
    requestsPerSecond: cell("rps"),
    avgMs: cell("avg_latency_ms"),
    p50Ms: cell("p50_latency_ms"),
    p95Ms: cell("p95_latency_ms"),
    p99Ms: cell("p99_latency_ms"),
    maxMs: cell("max_latency_ms"),
  };
  return Object.values(figures).every(Number.isFinite) ? figures : undefined;
}

/** A CSV line of quoted cells; the test's name (the first cell) may itself hold commas. */
function splitCsv(line: string): string[] {
  return [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((match) => (match[1] as string).replaceAll('""', '"'));
}
