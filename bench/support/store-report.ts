/**
 * What bench:store makes of its runs: Logbook's ratio to the best peer in each round, the SVG
 * chart of its ratio to each peer (--svg), and the table and sentences it prints last.
 */
import { median } from "./median.js";
import { runCaption } from "./run-caption.js";
import type { System } from "./store-systems.js";
import { type Bar, writeBarChart } from "./svg-chart.js";

/** One (system, concurrency) run's figures, and the round it ran in. */
export interface Figure {
  putsPerSecond: number;
  p99Us: number;
  getsPerSecond: number;
  round: number;
}

/** Logbook's figure over the best peer's, in each round where both ran. */
export function roundRatios(runs: Map<string, Figure[]>, systems: System[], c: number, pick: (f: Figure) => number): number[] {
  const ratios: number[] = [];
  for (const ours of runs.get(`logbook ${c}`) ?? []) {
    const peers = systems
      .filter((s) => s !== "logbook")
      .flatMap((s) => (runs.get(`${s} ${c}`) ?? []).filter((f) => f.round === ours.round).map(pick));
    if (peers.length > 0) ratios.push(pick(ours) / Math.max(...peers));
  }
  return ratios;
}

/** Logbook over each peer: puts at each concurrency, gets at the first; medians of the rounds' ratios, with their range. */
function chartBars(runs: Map<string, Figure[]>, systems: System[], levels: number[]): Bar[] {
  const groups = [
    ...levels.map((c) => ({ name: `puts, c=${c}`, c, pick: (f: Figure) => f.putsPerSecond })),
    { name: "gets", c: levels[0] as number, pick: (f: Figure) => f.getsPerSecond },
  ];
  return groups.flatMap((group) =>
    systems
      .filter((s) => s !== "logbook")
      .flatMap((peer) => {
        const list = roundRatios(runs, [peer], group.c, group.pick);
        if (list.length === 0) return [];
        const range = [Math.min(...list), Math.max(...list)] as const;
        return [{ group: group.name, series: `logbook / ${peer}`, value: median(list), range }];
      }),
  );
}

function ratioCell(list: number[]): string {
  if (list.length === 0) return "-";
  return `${median(list).toFixed(2)} [${Math.min(...list).toFixed(2)}, ${Math.max(...list).toFixed(2)}]`;
}

/** --svg: Logbook's ratio to each peer, as a bar chart at `path` (none when no peer ran). */
export function writeChart(path: string, runs: Map<string, Figure[]>, systems: System[], levels: number[]): void {
  const bars = chartBars(runs, systems, levels);
  if (bars.length === 0) console.error("bench:store: no peer ran, so no chart was written");
  else {
    writeBarChart(path, {
      title: "bench:store: Logbook's durable puts and its gets against each peer",
      valueLabel: "logbook's operations/s ÷ the peer's",
      groupLabel: "operation, concurrent writers (c); whiskers: lowest and highest round",
      referenceLabel: "the peer, measured in the same round",
      bars,
      caption: runCaption(),
    });
  }
}

/** The medians of the rounds as a Markdown table: puts/s (p99 µs) at each concurrency, gets/s, and the ratios. */
export function printTable(
  runs: Map<string, Figure[]>,
  systems: System[],
  levels: number[],
  rounds: number,
  ratios: number[][],
  getRatios: number[],
): void {
  console.log(
    `\ndurable puts/s (p99 µs) and gets/s, medians of ${rounds} rounds; ratio = logbook / best peer in each round, median [lowest, highest]`,
  );
  console.log(`| system | ${levels.map((c) => `c=${c}`).join(" | ")} | gets/s |`);
  console.log(`|---|${levels.map(() => "---:").join("|")}|---:|`);
  const middle = (system: string, c: number, pick: (f: Figure) => number) => {
    const list = runs.get(`${system} ${c}`) ?? [];
    return list.length === 0 ? undefined : median(list.map(pick));
  };
  for (const system of systems) {
    const cells = levels.map((c) => {
      const puts = middle(system, c, (f) => f.putsPerSecond);
      return puts === undefined ? "-" : `${puts.toFixed(0)} (${middle(system, c, (f) => f.p99Us)?.toFixed(0)})`;
    });
    console.log(
      `| ${system} | ${cells.join(" | ")} | ${middle(system, levels[0] as number, (f) => f.getsPerSecond)?.toFixed(0) ?? "-"} |`,
    );
  }
  console.log(`| ratio | ${ratios.map(ratioCell).join(" | ")} | ${ratioCell(getRatios)} |`);
}

/** Logbook's recovery and checkpoint figures as sentences, where they ran. */
export function printLogbookFigures(
  recovery: Record<string, number> | undefined,
  checkpoint: Record<string, number> | undefined,
): void {
  if (recovery) {
    console.log(
      `\nrecovery: ${(recovery.logBytes ?? 0) / 2 ** 20} MiB of log, ${recovery.records} records in ${recovery.openSeconds?.toFixed(2)} s: ` +
        `${recovery.recordsPerSecond?.toFixed(0)} records/s, ${recovery.logMegabytesPerSecond?.toFixed(0)} MB/s of log; ` +
        `log verify scan ${recovery.verifyGigabytesPerSecond?.toFixed(2)} GB/s`,
    );
  }
  if (checkpoint) {
    console.log(
      `checkpoint of ${checkpoint.keys} keys: ${checkpoint.checkpointSeconds?.toFixed(2)} s, ${((checkpoint.checkpointBytes ?? 0) / 2 ** 20).toFixed(1)} MiB, ` +
        `opened again in ${checkpoint.loadSeconds?.toFixed(2)} s; ` +
        `memory ${checkpoint.heapBytesPerKey?.toFixed(0)} bytes/key of which ${checkpoint.keyValueBytesPerKey?.toFixed(0)} are key and value: ` +
        `overhead ${checkpoint.overheadBytesPerKey?.toFixed(0)} bytes/key`,
    );
  }
}
