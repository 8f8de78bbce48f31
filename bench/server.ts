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
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
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

async function startLogbook(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [MAIN, "serve", "--data-dir", dir, "--host", "127.0.0.1", "--port", String(port), "--no-checkpoint-on-exit"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.includes('"logbook is serving"')) resolve();
    });
    child.once("exit", (code) => reject(new Error(`logbook serve exited with ${code}`)));
  });
  child.stdout?.resume();
  return { child, url: `http://127.0.0.1:${port}` };
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
}

await main();
