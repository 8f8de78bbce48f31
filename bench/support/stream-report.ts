/**
 * What bench:streams prints and charts: a Markdown table per part, with each figure's ratio to
 * the baseline measured in the same run and the goal it is held against, and (--svg) one bar
 * chart of those ratios.
 */
import { median } from "./median.js";
import { runCaption } from "./run-caption.js";
import { type AddFigure, addRatios } from "./stream-adds.js";
import type { BigFigures } from "./stream-big.js";
import { CONSUMERS, type GroupFigures, READ_COUNT } from "./stream-groups.js";
import type { ScanFigures } from "./stream-scan.js";
import { type Bar, writeBarChart } from "./svg-chart.js";

/** What the run held the figures against. */
export const ADDS_RATIO_GOAL = 0.9;
export const SCAN_ENTRIES_PER_SECOND_GOAL = 1_000_000;
export const RSS_BYTES_GOAL = 2 ** 30;
export const INDEX_BYTES_PER_ENTRY_GOAL = 16;

export interface StreamsRun {
  levels: readonly number[];
  rounds: number;
  adds: AddFigure[];
  groups: GroupFigures | undefined;
  scan: ScanFigures | undefined;
  big: BigFigures | undefined;
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");
const mib = (bytes: number) =>
  bytes < 10 * 2 ** 20 ? `${(bytes / 2 ** 10).toFixed(0)} KiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const met = (ok: boolean) => (ok ? "met" : "**not met**");

function spread(list: readonly number[]): string {
  if (list.length === 0) return "-";
  return `${median(list).toFixed(2)} [${Math.min(...list).toFixed(2)}, ${Math.max(...list).toFixed(2)}]`;
}

function printAdds(run: StreamsRun): void {
  console.log(`\n## adds against puts`);
  console.log(
    `durable (sync "always") adds of one 100-byte field and puts of 100-byte values, closed-loop writers; ` +
      `medians of ${run.rounds} rounds, ratio = adds/s ÷ puts/s in each round, median [lowest, highest]`,
  );
  console.log(`| c | adds/s | puts/s | adds ÷ puts | goal ≥ ${ADDS_RATIO_GOAL} |`);
  console.log("|---:|---:|---:|---:|---|");
  for (const c of run.levels) {
    const of = (system: string) => run.adds.filter((f) => f.system === system && f.concurrency === c).map((f) => f.opsPerSecond);
    const ratios = addRatios(run.adds, c);
    const cell = (list: number[]) => (list.length === 0 ? "-" : count(median(list)));
    const goal = ratios.length === 0 ? "-" : met(median(ratios) >= ADDS_RATIO_GOAL);
    console.log(`| ${c} | ${cell(of("adds"))} | ${cell(of("puts"))} | ${spread(ratios)} | ${goal} |`);
  }
}

function printGroups(g: GroupFigures): void {
  console.log(`\n## consumer group read + ack`);
  console.log(
    `${CONSUMERS} consumers, each looping readGroup(count=${READ_COUNT}) and ack until the group is drained, sync "always"; ` +
      `baseline: plain read (count=${READ_COUNT}) of the same entries, before and after (mean)`,
  );
  console.log("| entries | group read + ack entries/s | plain read entries/s | ratio |");
  console.log("|---:|---:|---:|---:|");
  console.log(
    `| ${count(g.entries)} | ${count(g.groupEntriesPerSecond)} | ${count(g.readEntriesPerSecond)} | ${g.ratio.toFixed(2)} |`,
  );
}

function printScan(s: ScanFigures): void {
  console.log(`\n## reading from the start`);
  console.log(
    `store.streams.entries(key) over the whole stream, after a reopen; baseline: sequential fs.read of the same data files ` +
      `(1 MiB reads, before and after, mean); fill: sync "none", adds in flight`,
  );
  console.log(
    `| entries | data | fill s (entries/s) | scan entries/s (MB/s) | fs.read ceiling entries/s (MB/s) | ratio | goal ≥ ${count(SCAN_ENTRIES_PER_SECOND_GOAL)}/s |`,
  );
  console.log("|---:|---:|---:|---:|---:|---:|---|");
  console.log(
    `| ${count(s.entries)} | ${mib(s.dataBytes)} | ${s.fillSeconds.toFixed(1)} (${count(s.fillEntriesPerSecond)}) | ` +
      `${count(s.scanEntriesPerSecond)} (${s.scanMegabytesPerSecond.toFixed(0)}) | ` +
      `${count(s.ceilingEntriesPerSecond)} (${s.ceilingMegabytesPerSecond.toFixed(0)}) | ${s.ratio.toFixed(3)} | ` +
      `${met(s.scanEntriesPerSecond >= SCAN_ENTRIES_PER_SECOND_GOAL)} |`,
  );
}

function printBig(b: BigFigures): void {
  const perEntry = b.indexBytes / b.entries;
  const reopenedPerEntry = b.reopen.indexBytes / b.reopen.entries;
  const ratio = b.big.seconds / b.small.seconds;
  console.log(`\n## one big stream`);
  console.log(
    `${count(b.entries)} entries, ${(b.dataBytes / 2 ** 30).toFixed(2)} GiB of data; RSS after global.gc(), default heap; ` +
      `checkpoints after ${count(b.checkpointEntries)} more entries (median of ${b.checkpointRepeats}), at ${count(b.big.entriesBefore)} and (baseline) at ${count(b.small.entriesBefore)}`,
  );
  console.log("| figure | value | goal |");
  console.log("|---|---:|---|");
  const rows: [string, string, string][] = [
    ["fill (sync none)", `${b.fillSeconds.toFixed(0)} s (${count(b.big.entriesBefore / b.fillSeconds)} entries/s)`, ""],
    ["RSS after filling", mib(b.rssBytes), `≤ 1 GiB: ${met(b.rssBytes <= RSS_BYTES_GOAL)}`],
    ["RSS after reopening", mib(b.reopen.rssBytes), `≤ 1 GiB: ${met(b.reopen.rssBytes <= RSS_BYTES_GOAL)}`],
    [
      "index bytes per entry (filled)",
      perEntry.toFixed(2),
      `≤ ${INDEX_BYTES_PER_ENTRY_GOAL}: ${met(perEntry <= INDEX_BYTES_PER_ENTRY_GOAL)}`,
    ],
    [
      "index bytes per entry (reopened)",
      reopenedPerEntry.toFixed(2),
      `≤ ${INDEX_BYTES_PER_ENTRY_GOAL}: ${met(reopenedPerEntry <= INDEX_BYTES_PER_ENTRY_GOAL)}`,
    ],
    [
      "recovery: Store.open",
      `${b.reopen.openSeconds.toFixed(2)} s (${count(b.reopen.recordsReplayed)} log records replayed)`,
      "",
    ],
    [`checkpoint right after the fill`, `${b.big.firstSeconds.toFixed(2)} s`, ""],
    [
      `checkpoint after +${count(b.checkpointEntries)} at ${count(b.big.entriesBefore)}`,
      `${b.big.seconds.toFixed(3)} s, files ${count(b.big.fileBytes)} B, new data ${mib(b.big.newDataBytes)}`,
      "",
    ],
    [
      `the same at ${count(b.small.entriesBefore)} (baseline)`,
      `${b.small.seconds.toFixed(3)} s, files ${count(b.small.fileBytes)} B, new data ${mib(b.small.newDataBytes)}`,
      "",
    ],
    ["ratio of the two checkpoints' times", ratio.toFixed(2), "near 1: the cost follows the new data"],
  ];
  for (const row of rows) console.log(`| ${row.join(" | ")} |`);
}

export function printReport(run: StreamsRun): void {
  if (run.adds.length > 0) printAdds(run);
  if (run.groups) printGroups(run.groups);
  if (run.scan) printScan(run.scan);
  if (run.big) printBig(run.big);
}

function chartBars(run: StreamsRun): Bar[] {
  const series = "Logbook streams";
  const bars: Bar[] = [];
  for (const c of run.levels) {
    const list = addRatios(run.adds, c);
    if (list.length > 0)
      bars.push({ group: `adds ÷ puts, c=${c}`, series, value: median(list), range: [Math.min(...list), Math.max(...list)] });
  }
  if (run.groups) bars.push({ group: "group read + ack ÷ plain read", series, value: run.groups.ratio });
  if (run.scan) bars.push({ group: "scan from the start ÷ fs.read of its files", series, value: run.scan.ratio });
  if (run.big) {
    const { big, small } = run.big;
    bars.push({
      group: `checkpoint time at ${count(big.entriesBefore)} ÷ at ${count(small.entriesBefore)}`,
      series,
      value: big.seconds / small.seconds,
    });
  }
  return bars;
}

/** --svg: each part's ratio to its same-run baseline, one bar each. */
export function writeStreamsChart(path: string, run: StreamsRun): void {
  writeBarChart(path, {
    title: "bench:streams: Logbook's streams against same-run baselines",
    valueLabel: "ratio to the baseline named in each row",
    groupLabel: "figure ÷ its baseline; whiskers: lowest and highest round",
    referenceLabel: "the baseline, measured in the same run",
    bars: chartBars(run),
    caption: runCaption(),
    orientation: "horizontal",
  });
}
