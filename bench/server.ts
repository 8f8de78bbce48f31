/**
 * npm run bench:server — durable HTTP PUTs (100-byte JSON values, sync on every write) at 1,
 * 64 and 256 concurrent connections, and GETs, against `logbook serve` in a child process,
 * driven by autocannon from this process; and, in the same run when `redis-server` is
 * installed, Redis with appendonly yes + appendfsync always under redis-benchmark
 * (`-t set -d 100`) at the same concurrency, the peer to beat (../shared/DESIGN.md §8).
 *
 * The server runs the compiled code (dist/), as `npm start` does: run `npm run build` first
 * (the npm script does). Options: --seconds N (per figure, default 5), --connections 1,64,256,
 * --dir DIR, --install-peers (apt-get install redis-server when missing; needs root),
 * --json-only.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "1,64,256" },
    dir: { type: "string", default: "bench-data" },
    "install-peers": { type: "boolean", default: false },
    "json-only": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const connectionCounts = String(values.connections).split(",").map(Number);
const VALUE = JSON.stringify("v".repeat(98)); // 100 bytes of JSON
const MAIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));

interface Figure {
  system: string;
  operation: "put" | "get";
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const figures: Figure[] = [];
function report(figure: Figure): void {
  figures.push(figure);
  console.log(JSON.stringify({ bench: "server", ...figure }));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on("error", reject);
  });
}

/**
 * `observability`: "default" as `npm start` runs it (metrics and access log on, tracing off),
 * "on" (plus tracing to an OTLP endpoint), "off" (no metrics, no tracing, no access log).
 */
async function startLogbook(
  dir: string,
  observability: "default" | "on" | "off" = "default",
  otlpUrl?: string,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const flags = observability === "off" ? ["--no-metrics", "--no-access-log"] : [];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("OTEL_")) delete env[name];
  if (observability === "on" && otlpUrl !== undefined) {
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${otlpUrl}/v1/traces`;
    env.OTEL_TRACES_EXPORTER = "otlp";
    env.OTEL_METRICS_EXPORTER = "none";
    env.OTEL_LOGS_EXPORTER = "none";
    // Head sampling of 1%, the usual production setting (every request still carries a traceparent).
    env.OTEL_TRACES_SAMPLER = "parentbased_traceidratio";
    env.OTEL_TRACES_SAMPLER_ARG = "0.01";
  }
  // The server's log goes to a file, as in production; a pipe read by this busy process
  // would throttle the server instead of measuring it.
  const logFile = openSync(`${dir}.log`, "w");
  const child = spawn(
    process.execPath,
    [MAIN, "serve", "--data-dir", dir, "--host", "127.0.0.1", "--port", String(port), "--no-checkpoint-on-exit", ...flags],
    { stdio: ["ignore", logFile, "inherit"], env },
  );
  closeSync(logFile);
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`logbook serve exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (attempt > 300) throw new Error("logbook serve did not start in 30 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url };
}

async function load(url: string, connections: number, operation: "put" | "get"): Promise<Figure> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      operation === "put"
        ? { method: "PUT", path: "/v1/kv/key-[<id>]", headers: { "content-type": "application/json" }, body: VALUE }
        : { method: "GET", path: "/v1/kv/hot" },
    ],
    idReplacement: operation === "put",
  });
  return {
    system: "logbook",
    operation,
    connections,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

/** The disk's own speed now: write + fdatasync of one 116-byte record at a time, on a prewritten file. */
function diskCeiling(path: string): Figure {
  const fd = openSync(path, "w+");
  try {
    writeSync(fd, Buffer.alloc(16 * 1024 * 1024));
    fdatasyncSync(fd);
    const record = Buffer.alloc(116, 1);
    const latencies: number[] = [];
    const endMs = performance.now() + 1000 * Math.min(2, seconds);
    for (let position = 0; performance.now() < endMs && position < 16 * 1024 * 1024 - 116; position += 116) {
      const startMs = performance.now();
      writeSync(fd, record, 0, record.length, position);
      fdatasyncSync(fd);
      latencies.push(performance.now() - startMs);
    }
    latencies.sort((a, b) => a - b);
    const total = latencies.reduce((sum, ms) => sum + ms, 0);
    return {
      system: "disk ceiling (write + fdatasync)",
      operation: "put",
      connections: 1,
      requestsPerSecond: Math.round((latencies.length * 1000) / total),
      p50Ms: Number((latencies[Math.floor(latencies.length / 2)] ?? 0).toFixed(3)),
      p99Ms: Number((latencies[Math.floor(latencies.length * 0.99)] ?? 0).toFixed(3)),
      errors: 0,
    };
  } finally {
    closeSync(fd);
  }
}

function haveRedis(): boolean {
  const found = spawnSync("sh", ["-c", "command -v redis-server && command -v redis-benchmark"], { encoding: "utf8" });
  if (found.status === 0) return true;
  if (!values["install-peers"]) return false;
  console.error("installing redis-server with apt-get (--install-peers)");
  const install = spawnSync(
    "sh",
    ["-c", "apt-get install -y redis-server || (apt-get update && apt-get install -y redis-server)"],
    {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    },
  );
  return install.status === 0;
}

async function startRedis(dir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 100; i++) {
    if (spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout.includes("PONG")) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, port };
}

function redisFigure(port: number, connections: number): Figure {
  // About `seconds` of work at the rate Redis reaches here (calibrated by a short run).
  const probe = runRedisBenchmark(port, connections, connections === 1 ? 1000 : 10_000);
  return runRedisBenchmark(port, connections, Math.max(2000, Math.round(probe.requestsPerSecond * seconds)));
}

function runRedisBenchmark(port: number, connections: number, requests: number): Figure {
  const output = execFileSync(
    "redis-benchmark",
    ["-p", String(port), "-t", "set", "-d", "100", "-c", String(connections), "-n", String(requests), "-r", "1000000", "--csv"],
    { encoding: "utf8" },
  );
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const row = output
    .trim()
    .split("\n")
    .find((line) => line.startsWith('"SET"'));
  if (row === undefined) throw new Error(`unexpected redis-benchmark output: ${output}`);
  const cells = row.split(",").map((cell) => Number(cell.replaceAll('"', "")));
  return {
    system: "redis (appendfsync always)",
    operation: "put",
    connections,
    requestsPerSecond: Math.round(cells[1] as number),
    p50Ms: cells[4] as number,
    p99Ms: cells[6] as number,
    errors: 0,
  };
}

/**
 * What any Node.js HTTP server can reach here: plain `node:http` in a child process that
 * reads each PUT's body and answers a fixed JSON reply, doing no other work, under the same
 * load. Logbook's server cannot pass this floor; when it is below Redis, so must Logbook be.
 */
async function nodeHttpFloor(connections: number): Promise<Figure> {
  const port = await freePort();
  const source = `require("node:http").createServer((q, r) => { q.resume(); q.on("end", () => { r.writeHead(200, { "content-type": "application/json" }); r.end('{"key":"k","version":1}'); }); }).listen(${port}, "127.0.0.1", () => console.log("ready"));`;
  const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve) => child.stdout?.once("data", () => resolve()));
    const figure = await load(`http://127.0.0.1:${port}`, connections, "put");
    return { ...figure, system: "node:http doing nothing (floor)" };
  } finally {
    child.kill("SIGKILL");
  }
}

/** An OTLP/HTTP endpoint that takes span batches and throws them away, counting bytes. */
async function startOtlpSink(): Promise<{ url: string; bytes: () => number; close: () => void }> {
  let received = 0;
  const sink = createHttpServer((request, response) => {
    request.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    request.on("end", () => response.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  const { port } = sink.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, bytes: () => received, close: () => sink.close() };
}

/**
 * Throughput with metrics, tracing (every request, exported over OTLP) and the access log all
 * on, against all off; alternated twice at each concurrency, since the machine drifts.
 */
/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
}

/**
 * The cost of observability: metrics + access log (the default), and those plus tracing
 * (1% head sampling, exported over OTLP/HTTP) against all off. Throughput on this shared
 * machine drifts by tens of percent between runs, so the steadier figure is the server's own
 * CPU time per request (from /proc), which is what observability adds; both are printed.
 * Three rounds, the order of the modes rotated each round.
 */
async function observabilityCost(root: string): Promise<void> {
  const sink = await startOtlpSink();
  const modes = ["off", "default", "on"] as const;
  try {
    for (const connections of connectionCounts.filter((c) => c > 1)) {
      const totals = {
        off: { requests: 0, rps: 0, cpu: 0 },
        default: { requests: 0, rps: 0, cpu: 0 },
        on: { requests: 0, rps: 0, cpu: 0 },
      };
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < modes.length; i++) {
          const mode = modes[(i + round) % modes.length] as (typeof modes)[number];
          const server = await startLogbook(join(root, `obs-${mode}-${connections}-${round}`), mode, sink.url);
          try {
            const cpuBefore = cpuSeconds(server.child.pid as number);
            const figure = await load(server.url, connections, "put");
            const cpu = cpuSeconds(server.child.pid as number) - cpuBefore;
            const requests = figure.requestsPerSecond * seconds;
            totals[mode].requests += requests;
            totals[mode].rps += figure.requestsPerSecond;
            totals[mode].cpu += cpu;
            report({ ...figure, system: `logbook, observability ${mode === "default" ? "metrics + access log" : mode}` });
            console.log(
              JSON.stringify({
                bench: "server",
                figure: "server-cpu-per-request",
                mode,
                connections,
                cpuMicroseconds: Math.round((cpu / requests) * 1e6),
              }),
            );
          } finally {
            server.child.kill("SIGKILL");
          }
        }
      }
      const cpuPerRequest = (mode: (typeof modes)[number]) => totals[mode].cpu / totals[mode].requests;
      const result = {
        connections,
        throughputOn: totals.on.rps / totals.off.rps,
        throughputDefault: totals.default.rps / totals.off.rps,
        cpuOffMicroseconds: cpuPerRequest("off") * 1e6,
        cpuDefaultMicroseconds: cpuPerRequest("default") * 1e6,
        cpuOnMicroseconds: cpuPerRequest("on") * 1e6,
      };
      observability.push(result);
      console.log(JSON.stringify({ bench: "server", figure: "observability-cost", ...result, otlpBytes: sink.bytes() }));
    }
  } finally {
    sink.close();
  }
}

const observability: {
  connections: number;
  throughputOn: number;
  throughputDefault: number;
  cpuOffMicroseconds: number;
  cpuDefaultMicroseconds: number;
  cpuOnMicroseconds: number;
}[] = [];

async function main(): Promise<void> {
  mkdirSync(values.dir as string, { recursive: true });
  const root = mkdtempSync(join(values.dir as string, "server-"));
  const redis = haveRedis() ? await startRedis(join(root, "redis")) : undefined;
  if (redis === undefined) {
    console.log(
      JSON.stringify({ bench: "server", peer: "redis", skipped: "redis-server is not installed (try --install-peers)" }),
    );
  }
  const logbook = await startLogbook(join(root, "logbook"));
  try {
    report(diskCeiling(join(root, "ceiling")));
    // Each concurrency runs Logbook and then Redis back to back: this disk's fdatasync time
    // drifts by several times over minutes, and ratios are only fair within one moment.
    for (const connections of connectionCounts) {
      report(await load(logbook.url, connections, "put"));
      if (redis !== undefined) report(redisFigure(redis.port, connections));
    }
    await fetch(`${logbook.url}/v1/kv/hot`, { method: "PUT", headers: { "content-type": "application/json" }, body: VALUE });
    report(await load(logbook.url, 64, "get"));
    report(await nodeHttpFloor(256));
    logbook.child.kill("SIGKILL");
    await observabilityCost(root);
  } finally {
    logbook.child.kill("SIGKILL");
    redis?.child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  }
  if (values["json-only"]) return;
  console.log("\nDurable PUTs (100-byte JSON values, fdatasync before the answer) and GETs over HTTP/1.1 on 127.0.0.1");
  console.log("| system | operation | connections | requests/s | p50 ms | p99 ms | errors |");
  console.log("|---|---|---|---|---|---|---|");
  for (const f of figures) {
    console.log(
      `| ${f.system} | ${f.operation} | ${f.connections} | ${f.requestsPerSecond.toLocaleString("en-US")} | ${f.p50Ms} | ${f.p99Ms} | ${f.errors} |`,
    );
  }
  const peers = figures.filter((f) => f.system.startsWith("redis"));
  for (const peer of peers) {
    const ours = figures.find((f) => f.system === "logbook" && f.operation === "put" && f.connections === peer.connections);
    if (ours === undefined) continue;
    const ratio = ours.requestsPerSecond / peer.requestsPerSecond;
    console.log(`c=${peer.connections}: logbook / redis = ${ratio.toFixed(2)}`);
    console.log(
      JSON.stringify({
        bench: "server",
        figure: "ratio-vs-redis",
        connections: peer.connections,
        ratio: Number(ratio.toFixed(3)),
      }),
    );
  }
  for (const o of observability) {
    const cost = (micros: number) => `${((micros / o.cpuOffMicroseconds - 1) * 100).toFixed(1)}%`;
    console.log(
      `c=${o.connections}: server CPU per request off ${o.cpuOffMicroseconds.toFixed(1)} µs, ` +
        `metrics + access log ${o.cpuDefaultMicroseconds.toFixed(1)} µs (+${cost(o.cpuDefaultMicroseconds)}), ` +
        `all on with 1% traces ${o.cpuOnMicroseconds.toFixed(1)} µs (+${cost(o.cpuOnMicroseconds)}); ` +
        `throughput ratios ${o.throughputDefault.toFixed(2)} and ${o.throughputOn.toFixed(2)}`,
    );
  }
}

await main();
