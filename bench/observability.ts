/**
 * npm run bench:observability — what observability costs per request, measured in one
 * process so that this machine's drift cancels out: three servers take PUTs through
 * Fastify's inject (no sockets: the socket work is the same for all, and is the noisiest
 * part) in rounds whose order rotates, and the process's CPU time per request is compared.
 * "On" has the default metrics + a JSON access log line per request (to /dev/null) + tracing
 * as `serve` starts it from OTEL_* variables (1% head sampling, OTLP/HTTP export to a sink in
 * this process; OTEL_TRACES_SAMPLER_ARG sets another ratio); "off" and "off again" have none of them:
 * the ratio of the two offs is the noise floor of the same run, printed beside the cost.
 * Each round starts from a collected heap and overwrites the same 4,096 keys, so neither
 * garbage nor the store's growth is billed to whichever server happens to run later.
 * Options: --requests N per round (default 4000), --rounds N (default 20), --svg PATH (writes
 * both ratios as a bar chart there; no chart without it).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { resolveConfig } from "../src/server/config.js";
import { LogbookServer } from "../src/server/server.js";
import { LogDestination } from "../src/server/telemetry/index.js";
import { median } from "./support/median.js";
import { startOtlpSink } from "./support/otlp-sink.js";
import { runCaption } from "./support/run-caption.js";
import { writeBarChart } from "./support/svg-chart.js";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "4000" },
    rounds: { type: "string", default: "20" },
    svg: { type: "string" },
  },
});
const requestsPerRound = Number(values.requests);
const rounds = Number(values.rounds);
const BODY = JSON.stringify("v".repeat(98));
const CONCURRENCY = 32;

// The SDK as `logbook serve` starts it from OTEL_* variables (head sampling, OTLP/HTTP export
// in batches), exporting to a sink in this process: 1% of new traces sampled, as in production.
const sink = await startOtlpSink();
process.env.OTEL_EXPORTER_OTLP_ENDPOINT = sink.url;
process.env.OTEL_TRACES_SAMPLER = "parentbased_traceidratio";
process.env.OTEL_TRACES_SAMPLER_ARG = process.env.OTEL_TRACES_SAMPLER_ARG ?? "0.01";

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
      // Undefined: started from the environment above, as `serve` does.
      ...(on && parts.has("trace") ? {} : { tracing: false }),
      logger: pino({ level: "info" }, new LogDestination("/dev/null", 200)),
    },
  );
const servers = { off: await start("off", false), on: await start("on", true), offAgain: await start("off-again", false) };
type Mode = keyof typeof servers;
const MODES: readonly Mode[] = ["off", "on", "offAgain"];
const KEYS = 4096;

let counter = 0;
async function round(server: LogbookServer): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.cpuUsage();
  let sent = 0;
  const chain = async () => {
    while (sent < requestsPerRound) {
      sent++;
      const reply = await server.app.inject({
        method: "PUT",
        url: `/v1/kv/key-${counter++ % KEYS}`,
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

const samples: Record<Mode, number[]> = { on: [], off: [], offAgain: [] };
for (const mode of MODES) await round(servers[mode]); // warm-up
for (let i = 0; i < rounds; i++) {
  for (let m = 0; m < MODES.length; m++) {
    const mode = MODES[(i + m) % MODES.length] as Mode;
    samples[mode].push(await round(servers[mode]));
  }
}
/** The median over rounds of a/b within the round: drift between rounds cancels. */
const pairedRatio = (a: Mode, b: Mode) => median(samples[a].map((value, i) => value / (samples[b][i] as number)));
const off = median(samples.off);
const on = median(samples.on);
const cost = pairedRatio("on", "off") - 1;
const noise = pairedRatio("offAgain", "off") - 1;
console.log(
  JSON.stringify({
    bench: "observability",
    figure: "cpu-microseconds-per-request",
    parts: [...parts],
    off: Number(off.toFixed(2)),
    on: Number(on.toFixed(2)),
    costRatio: Number(cost.toFixed(4)),
    noiseRatio: Number(noise.toFixed(4)),
    otlpBytesExported: sink.bytes(),
  }),
);
const percent = (ratio: number) => `${ratio >= 0 ? "+" : ""}${(ratio * 100).toFixed(1)}%`;
console.log(
  `CPU per PUT (${rounds} rounds of ${requestsPerRound}, through inject; ${[...parts].join(" + ")}): ` +
    `off ${off.toFixed(1)} µs, on ${on.toFixed(1)} µs → observability costs ${percent(cost)} (target < 5%); ` +
    `off against off again, the noise of this run: ${percent(noise)}`,
);
if (values.svg !== undefined) {
  const group = "CPU per PUT";
  writeBarChart(values.svg, {
    title: "bench:observability: CPU per request, observed against off",
    valueLabel: "CPU per request ÷ off's (median of rounds)",
    groupLabel: `${rounds} rounds of ${requestsPerRound} PUTs through inject`,
    referenceLabel: "the server with observability off, same rounds",
    bars: [
      { group, series: `on (${[...parts].join(" + ")})`, value: pairedRatio("on", "off") },
      { group, series: "off again (the noise)", value: pairedRatio("offAgain", "off") },
    ],
    caption: runCaption(),
  });
}
await servers.off.close();
await servers.on.close();
await servers.offAgain.close();
sink.close();
rmSync(root, { recursive: true, force: true });
