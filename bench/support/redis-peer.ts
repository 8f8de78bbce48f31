/**
 * bench:server's peer: redis-server with appendonly yes + appendfsync always in a child
 * process, driven by redis-benchmark (`-t set -d 100`), whose CSV output becomes a Figure.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import type { Figure } from "./server-figures.js";
import { freePort } from "./server-process.js";

/** Whether redis-server and redis-benchmark are on the PATH; with `install`, apt-get installs them when not. */
export function haveRedis(install: boolean): boolean {
  const found = spawnSync("sh", ["-c", "command -v redis-server && command -v redis-benchmark"], { encoding: "utf8" });
  if (found.status === 0) return true;
  if (!install) return false;
  console.error("installing redis-server with apt-get (--install-peers)");
  const installed = spawnSync(
    "sh",
    ["-c", "apt-get install -y redis-server || (apt-get update && apt-get install -y redis-server)"],
    {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    },
  );
  return installed.status === 0;
}

export async function startRedis(dir: string): Promise<{ child: ChildProcess; port: number }> {
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

export function redisFigure(port: number, connections: number, seconds: number): Figure {
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
