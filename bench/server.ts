/**
 * npm run bench:server — durable HTTP PUTs (100-byte JSON values, sync on every write) at 1,
 * 64 and 256 concurrent connections, and GETs, against `logbook serve` in a child process,
 * driven by autocannon from this process; and, in the same run when `redis-server` is
 * installed, Redis with appendonly yes + appendfsync always under redis-benchmark
 * (`-t set -d 100`) at the same concurrency, the peer to beat (docs/benchmarks.md).
 *
 * The server runs the compiled code (dist/), as `npm start` does: run `npm run build` first
 * (the npm script does). Options: --seconds N (per figure, default 5), --connections 1,64,256,
 * --dir DIR, --install-peers (apt-get install redis-server when missing; needs root),
 * --rounds N (of the observability comparison, default 7; both servers run --no-commit-on-event-loop), --warm-up-seconds N (of each
 * fresh pair before it is measured, default 5), --modes (which observed servers it
 * compares with all off: metricsTracing, allOn, offAgain, metrics, tracing, accessLog), --only peers|observability,
 * --trace-ratio R (head sampling of the traced servers, default 0.01: 0 prices the unsampled
 * path alone, 1 a span for every request), --json-only, --svg PATH (bar charts of the ratios:
 * every PUT figure over Redis's at the same concurrency, and each observed server over all off;
 * when both parts run, the second chart goes beside PATH as NAME-observability.svg; no chart
 * without it).
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  type ObservabilityCost,
  type ObservabilitySettings,
  observabilityCost,
  observedModeTable,
  parseObservedModes,
} from "./support/observability-cost.js";
import { haveRedis, redisFigure, startRedis } from "./support/redis-peer.js";
import { diskCeiling, type Figure, load, nodeHttpFloor, VALUE } from "./support/server-figures.js";
import { startLogbook } from "./support/server-process.js";
import { printObservabilityReport, printPeerReport, writeCharts } from "./support/server-report.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "1,64,256" },
    dir: { type: "string", default: "bench-data" },
    "install-peers": { type: "boolean", default: false },
    "json-only": { type: "boolean", default: false },
    rounds: { type: "string", default: "7" },
    "warm-up-seconds": { type: "string", default: "5" },
    modes: { type: "string", default: "metricsTracing,allOn,offAgain" },
    only: { type: "string" },
    "trace-ratio": { type: "string", default: "0.01" },
    svg: { type: "string" },
  },
});
const traceRatio = Number(values["trace-ratio"]);
if (!(traceRatio >= 0 && traceRatio <= 1))
  throw new Error(`--trace-ratio takes a number from 0 to 1, got ${values["trace-ratio"]}`);
const seconds = Number(values.seconds);
const connectionCounts = String(values.connections).split(",").map(Number);
/** "peers" runs the comparison with Redis only, "observability" the cost of observability only. */
const only = values.only as "peers" | "observability" | undefined;
const OBSERVED_MODES = observedModeTable(traceRatio);
const observabilitySettings: ObservabilitySettings = {
  seconds,
  warmUpSeconds: Number(values["warm-up-seconds"]),
  rounds: Number(values.rounds),
  traceRatio,
  connectionCounts,
  modes: parseObservedModes(String(values.modes), OBSERVED_MODES),
  table: OBSERVED_MODES,
};

const figures: Figure[] = [];
function report(figure: Figure): void {
  figures.push(figure);
  console.log(JSON.stringify({ bench: "server", ...figure }));
}

async function main(): Promise<void> {
  mkdirSync(values.dir as string, { recursive: true });
  const root = mkdtempSync(join(values.dir as string, "server-"));
  const redis =
    only !== "observability" && haveRedis(values["install-peers"] === true) ? await startRedis(join(root, "redis")) : undefined;
  if (redis === undefined && only !== "observability") {
    console.log(
      JSON.stringify({ bench: "server", peer: "redis", skipped: "redis-server is not installed (try --install-peers)" }),
    );
  }
  const logbook = only === "observability" ? undefined : await startLogbook(join(root, "logbook"));
  let observability: ObservabilityCost[] = [];
  try {
    if (logbook !== undefined) {
      report(diskCeiling(join(root, "ceiling"), seconds));
      // Each concurrency runs Logbook and then Redis back to back: this disk's fdatasync time
      // drifts by several times over minutes, and ratios are only fair within one moment.
      for (const connections of connectionCounts) {
        report(await load(logbook.url, connections, "put", seconds));
        if (redis !== undefined) report(redisFigure(redis.port, connections, seconds));
      }
      await fetch(`${logbook.url}/v1/kv/hot`, { method: "PUT", headers: { "content-type": "application/json" }, body: VALUE });
      report(await load(logbook.url, 64, "get", seconds));
      report(await nodeHttpFloor(256, seconds));
      logbook.child.kill("SIGKILL");
    }
    if (only !== "peers") observability = await observabilityCost(observabilitySettings, root);
  } finally {
    logbook?.child.kill("SIGKILL");
    redis?.child.kill("SIGKILL");
    rmSync(root, { recursive: true, force: true });
  }
  if (values.svg !== undefined) writeCharts(values.svg, figures, observability, OBSERVED_MODES, only);
  if (values["json-only"]) return;
  printPeerReport(figures);
  printObservabilityReport(observability, OBSERVED_MODES);
}

await main();
