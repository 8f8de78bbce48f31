/**
 * npm run bench:observability — what observability costs per request, measured in one
 * process so that this machine's drift cancels out: two servers (observability on and off)
 * take PUTs through Fastify's inject (no sockets: the socket work is the same for both, and
 * is the noisiest part), in alternating rounds, and the process's CPU time per request is
 * compared. "On" is the default metrics + a JSON access log line per request (to /dev/null)
 * + tracing with 1% head sampling into a batching exporter; "off" has none of them.
 * Options: --requests N per round (default 4000), --rounds N (default 10).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { resolveConfig } from "../src/server/config.js";
import { LogbookServer } from "../src/server/server.js";

const { values } = parseArgs({
  options: { requests: { type: "string", default: "4000" }, rounds: { type: "string", default: "10" } },
});
const requestsPerRound = Number(values.requests);
const rounds = Number(values.rounds);
const BODY = JSON.stringify("v".repeat(98));
const CONCURRENCY = 32;

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }),
  spanProcessors: [new BatchSpanProcessor(exporter)],
});
trace.setGlobalTracerProvider(provider);
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

const root = mkdtempSync(join(tmpdir(), "logbook-obs-"));
/** Which parts "on" has: LOGBOOK_OBSERVE=metrics,log,trace (all by default), to price each. */
const parts = new Set((process.env.LOGBOOK_OBSERVE ?? "metrics,log,trace").split(","));
const start = (name: string, on: boolean) =>
  LogbookServer.start(
    resolveConfig({
      dataDir: join(root, name),
      port: 0,
      sync: "none",
      checkpointEveryBytes: 0,
      metrics: on && parts.has("metrics"),
      accessLog: on && parts.has("log"),
      checkpointOnExit: false,
    }),
    {
      tracing: on && parts.has("trace"),
      logger: pino({ level: "info" }, pino.destination({ dest: "/dev/null", sync: false, minLength: 8 * 1024 })),
    },
  );
const servers = { off: await start("off", false), on: await start("on", true) };

let counter = 0;
async function round(server: LogbookServer): Promise<number> {
  const before = process.cpuUsage();
  let sent = 0;
  const chain = async () => {
    while (sent < requestsPerRound) {
      sent++;
      const reply = await server.app.inject({
        method: "PUT",
        url: `/v1/kv/key-${counter++}`,
        headers: { "content-type": "application/json" },
        payload: BODY,
      });
      if (reply.statusCode !== 200) throw new Error(`PUT answered ${reply.statusCode}: ${reply.body}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, chain));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / requestsPerRound;
}

const samples: Record<"on" | "off", number[]> = { on: [], off: [] };
await round(servers.off); // warm-up of both
await round(servers.on);
for (let i = 0; i < rounds; i++) {
  for (const mode of i % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const)) {
    samples[mode].push(await round(servers[mode]));
  }
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] as number;
const off = median(samples.off);
const on = median(samples.on);
console.log(
  JSON.stringify({
    bench: "observability",
    figure: "cpu-microseconds-per-request",
    off: Number(off.toFixed(2)),
    on: Number(on.toFixed(2)),
    costRatio: Number((on / off - 1).toFixed(4)),
    spansExported: exporter.getFinishedSpans().length,
  }),
);
console.log(
  `CPU per PUT (median of ${rounds} rounds of ${requestsPerRound}, through inject): off ${off.toFixed(1)} µs, ` +
    `on ${on.toFixed(1)} µs → observability costs ${((on / off - 1) * 100).toFixed(1)}% (target < 5%)`,
);
await servers.off.close();
await servers.on.close();
await provider.shutdown();
rmSync(root, { recursive: true, force: true });
