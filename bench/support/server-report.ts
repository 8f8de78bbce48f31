/**
 * What bench:server prints after its JSON lines: the SVG charts of its ratios (--svg), and the
 * table and sentences of its figures (unless --json-only).
 */
import type { ObservabilityCost, ObservedModeTable } from "./observability-cost.js";
import { runCaption } from "./run-caption.js";
import type { Figure } from "./server-figures.js";
import { type Bar, writeBarChart } from "./svg-chart.js";

/** --svg: the peer chart at `path`, the observability chart there or beside it (see bench/server.ts). */
export function writeCharts(
  path: string,
  figures: Figure[],
  observability: ObservabilityCost[],
  table: ObservedModeTable,
  only: "peers" | "observability" | undefined,
): void {
  const caption = runCaption();
  const isRedis = (f: Figure) => f.system.startsWith("redis");
  const peerBars: Bar[] = figures.filter(isRedis).flatMap((redis) =>
    figures
      .filter((f) => !isRedis(f) && f.operation === "put" && f.connections === redis.connections)
      .map((f) => ({
        group: `c=${redis.connections}`,
        series: f.system,
        value: f.requestsPerSecond / redis.requestsPerSecond,
      })),
  );
  if (peerBars.length > 0) {
    writeBarChart(path, {
      title: "bench:server: durable PUTs over HTTP against Redis",
      valueLabel: "requests/s ÷ Redis's",
      groupLabel: "concurrent connections (c)",
      referenceLabel: "redis-server, appendonly yes, appendfsync always, same run",
      bars: peerBars,
      caption,
    });
  } else if (only !== "observability") console.error("bench:server: Redis did not run, so no peer chart was written");
  const costBars: Bar[] = observability.flatMap((o) => {
    const series = table[o.mode].label;
    return [
      { group: `throughput, c=${o.connections}`, series, value: o.throughputRatio },
      {
        group: `event-loop CPU/request, c=${o.connections}`,
        series,
        value: o.mainThreadCpuRatio,
        range: o.mainThreadCpuRatioQuartiles,
      },
      { group: `process CPU/request, c=${o.connections}`, series, value: o.processCpuRatio },
    ];
  });
  if (costBars.length === 0) return;
  writeBarChart(peerBars.length > 0 ? path.replace(/(\.svg)?$/, "-observability.svg") : path, {
    title: "bench:server: observability against all off, at the same moment",
    valueLabel: "observed server ÷ all off (medians of the rounds)",
    groupLabel: "figure, connections (c); whiskers: middle half of the rounds",
    referenceLabel: "the server with all off, loaded at the same time",
    bars: costBars,
    caption,
    orientation: "horizontal",
  });
}

/** The figures as a Markdown table, then Logbook over Redis at each concurrency (also as JSON lines). */
export function printPeerReport(figures: Figure[]): void {
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

/** One sentence per observed server: its cost against all off, on the event loop, in throughput and in process CPU. */
export function printObservabilityReport(observability: ObservabilityCost[], table: ObservedModeTable): void {
  const percent = (ratio: number) => `${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(1)}%`;
  for (const o of observability) {
    console.log(
      `c=${o.connections}, ${table[o.mode].label} against all off at the same time (median of ${o.rounds} rounds): ` +
        `event-loop CPU per request ${o.mainThreadCpuMicroseconds.toFixed(1)} vs ${o.mainThreadCpuOffMicroseconds.toFixed(1)} µs, ` +
        `${percent(o.mainThreadCpuRatio)} (middle half of rounds ${o.mainThreadCpuRatioQuartiles.map(percent).join(" to ")}); ` +
        `throughput ${Math.round(o.requestsPerSecond)} vs ${Math.round(o.requestsPerSecondOff)} requests/s, ${percent(o.throughputRatio)}` +
        // The goal is on throughput; the CPU figures say where a cost would come from.
        `${o.mode === "metricsTracing" ? ` (goal: a cost under 5% of throughput: ${o.throughputRatio > 0.95 ? "met" : "not met"})` : ""}; ` +
        `process CPU per request ${percent(o.processCpuRatio)}`,
    );
  }
}
