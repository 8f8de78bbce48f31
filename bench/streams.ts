/**
 * npm run bench:streams — Logbook's streams, each figure against a baseline measured in the
 * same run (docs/benchmarks.md):
 *   1. durable adds of one 100-byte field against the store's durable puts of 100-byte values,
 *      at each concurrency, the two alternating in order over --rounds (stream-adds.ts);
 *   2. a consumer group drained by 4 consumers (readGroup count=100 + ack) against plain reads
 *      of the same entries (stream-groups.ts);
 *   3. reading --entries entries from the start against a sequential fs.read of the same data
 *      files (stream-scan.ts);
 *   4. one stream of --big-entries entries in processes of their own: RSS after filling and
 *      after reopening, index bytes per entry, recovery time, and the checkpoint after
 *      --checkpoint-entries more entries against the same on a stream of only that many
 *      (stream-big.ts).
 *
 * Options: --seconds N (per adds/puts figure, default 3), --warm-up-seconds N (default 1),
 * --rounds N (default 3), --concurrency 1,16,256, --group-entries N (default 200000),
 * --entries N (default 10000000), --big-entries N (default 20000000), --checkpoint-entries N
 * (default 100000), --skip-big, --dir DIR (default bench-data), --svg PATH, and --quick: tiny
 * sizes for a smoke test (each option given still wins). 0 entries skips a part.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { commandLine, machineLine } from "./support/run-caption.js";
import { measureAddsAndPuts } from "./support/stream-adds.js";
import { measureBigStream, runBigFill, runBigOpen } from "./support/stream-big.js";
import { measureGroupReads } from "./support/stream-groups.js";
import { printReport, type StreamsRun, writeStreamsChart } from "./support/stream-report.js";
import { measureScan } from "./support/stream-scan.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string" },
    "warm-up-seconds": { type: "string" },
    rounds: { type: "string" },
    concurrency: { type: "string", default: "1,16,256" },
    "group-entries": { type: "string" },
    entries: { type: "string" },
    "big-entries": { type: "string" },
    "checkpoint-entries": { type: "string" },
    "skip-big": { type: "boolean", default: false },
    quick: { type: "boolean", default: false },
    dir: { type: "string", default: "bench-data" },
    svg: { type: "string" },
    part: { type: "string" },
  },
});

/** The option's number: given, else its --quick default, else its full-run default. */
function option(name: keyof typeof values, full: number, quick: number, positive = false): number {
  const given = values[name];
  const value = typeof given === "string" ? Number(given) : values.quick ? quick : full;
  const ok = positive ? value > 0 : value >= 0;
  if (!Number.isFinite(value) || !ok) throw new Error(`--${name} must be a ${positive ? "positive" : "non-negative"} number`);
  return value;
}

function integerOption(name: keyof typeof values, full: number, quick: number, positive = false): number {
  const value = option(name, full, quick, positive);
  if (!Number.isSafeInteger(value)) throw new Error(`--${name} must be an integer`);
  return value;
}

/** A child's part of the big stream (stream-big.ts): prints its figures as one JSON line. */
async function runPart(part: string): Promise<void> {
  const [name, dir, entries, extra] = part.split(",");
  if (name === "big-fill") console.log(JSON.stringify(await runBigFill(dir as string, Number(entries), Number(extra))));
  else if (name === "big-open") console.log(JSON.stringify(await runBigOpen(dir as string)));
  else throw new Error(`unknown part ${name}`);
}

async function main(): Promise<void> {
  if (values.part !== undefined) return runPart(values.part);
  const plan = {
    levels: values.concurrency.split(",").map(Number),
    rounds: integerOption("rounds", 3, 1, true),
    seconds: option("seconds", 3, 0.3, true),
    warmUpSeconds: option("warm-up-seconds", 1, 0.1),
  };
  if (!plan.levels.every((c) => Number.isSafeInteger(c) && c > 0)) throw new Error("--concurrency must list positive integers");
  const groupEntries = integerOption("group-entries", 200_000, 2_000);
  const entries = integerOption("entries", 10_000_000, 20_000);
  const bigEntries = values["skip-big"] ? 0 : integerOption("big-entries", 20_000_000, 20_000);
  const checkpointEntries = integerOption("checkpoint-entries", 100_000, 2_000, true);
  mkdirSync(values.dir, { recursive: true });
  const root = mkdtempSync(join(values.dir, "streams-"));
  console.log(`# bench:streams — ${commandLine()}`);
  console.log(`# ${machineLine()}, dir ${root}`);
  try {
    const run: StreamsRun = {
      levels: plan.levels,
      rounds: plan.rounds,
      adds: await measureAddsAndPuts(root, plan),
      groups: undefined,
      scan: undefined,
      big: undefined,
    };
    if (groupEntries > 0) run.groups = await measureGroupReads(root, groupEntries);
    if (run.groups) console.log(JSON.stringify({ bench: "streams", figure: "groups", ...run.groups }));
    if (entries > 0) run.scan = await measureScan(root, entries);
    if (run.scan) console.log(JSON.stringify({ bench: "streams", figure: "scan", ...run.scan }));
    if (bigEntries > 0) run.big = measureBigStream(fileURLToPath(import.meta.url), root, bigEntries, checkpointEntries);
    if (run.big) console.log(JSON.stringify({ bench: "streams", figure: "big", ...run.big }));
    if (values.svg !== undefined) writeStreamsChart(values.svg, run);
    printReport(run);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
