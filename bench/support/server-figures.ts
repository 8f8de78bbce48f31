/**
 * bench:server's figures that are not Logbook's observability: HTTP load with autocannon, the
 * disk's own write + fdatasync speed, and the floor any Node.js HTTP server sits on.
 */
import { spawn } from "node:child_process";
import { closeSync, fdatasyncSync, openSync, writeSync } from "node:fs";
import autocannon from "autocannon";
import { freePort } from "./server-process.js";

export const VALUE = JSON.stringify("v".repeat(98)); // 100 bytes of JSON

export interface Figure {
  system: string;
  operation: "put" | "get";
  connections: number;
  /** Requests answered, where the load generator counts them. */
  requests?: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/** PUTs write a new key each; GETs read one. */
export async function load(url: string, connections: number, operation: "put" | "get", seconds: number): Promise<Figure> {
  const put = { method: "PUT" as const, headers: { "content-type": "application/json" }, body: VALUE };
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [operation === "get" ? { method: "GET", path: "/v1/kv/hot" } : { ...put, path: "/v1/kv/key-[<id>]" }],
    idReplacement: operation === "put",
  });
  return {
    system: "logbook",
    operation,
    connections,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
  };
}

/** The disk's own speed now: write + fdatasync of one 116-byte record at a time, on a prewritten file. */
export function diskCeiling(path: string, seconds: number): Figure {
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

/**
 * What any Node.js HTTP server can reach here: plain `node:http` in a child process that
 * reads each PUT's body and answers a fixed JSON reply, doing no other work, under the same
 * load. Logbook's server cannot pass this floor; when it is below Redis, so must Logbook be.
 */
export async function nodeHttpFloor(connections: number, seconds: number): Promise<Figure> {
  const port = await freePort();
  const source = `require("node:http").createServer((q, r) => { q.resume(); q.on("end", () => { r.writeHead(200, { "content-type": "application/json" }); r.end('{"key":"k","version":1}'); }); }).listen(${port}, "127.0.0.1", () => console.log("ready"));`;
  const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise<void>((resolve) => child.stdout?.once("data", () => resolve()));
    const figure = await load(`http://127.0.0.1:${port}`, connections, "put", seconds);
    return { ...figure, system: "node:http doing nothing (floor)" };
  } finally {
    child.kill("SIGKILL");
  }
}
