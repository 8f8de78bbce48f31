/**
 * npm run bench:log — durable appends of 116-byte records (a 16-byte key and a 100-byte value)
 * at concurrency 1, 16 and 256, against the ceiling measured in the same run: the ideal group
 * commit for C closed-loop writers, i.e. a raw loop of node:fs synchronous calls that writes C
 * records' bytes (no framing) with one write and one fdatasync per batch, on a prewritten file.
 *
 * Also measured in the same run, for context: Logbook with preallocation off (segments that
 * grow as written, so every fdatasync also commits the file size), Logbook with every commit
 * handed to its writer thread (commitOnEventLoop false), Logbook committing through libuv's
 * pool, and the same ideal loop through node:fs/promises (each write and fdatasync a round
 * trip through libuv's pool).
 *
 * Options: --seconds N (per figure, default 5), --concurrency 1,16,256, --dir DIR (default:
 * bench-data/ under the working directory, so on its disk), --json-only, --svg PATH (writes
 * every figure's ratio to the ceiling as a bar chart there; no chart without it).
 */
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { open as openAsync } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type FileSystem, Log, NodeFileSystem } from "../src/index.js";
import { wrapFileSystem } from "../src/testing/index.js";
import { Histogram } from "./support/histogram.js";
import { runCaption } from "./support/run-caption.js";
import { type Bar, writeBarChart } from "./support/svg-chart.js";

const RECORD_BYTES = 116;
const CEILING_FILE_BYTES = 256 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "1,16,256" },
    dir: { type: "string", default: "bench-data" },
    "json-only": { type: "boolean", default: false },
    svg: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const levels = values.concurrency.split(",").map(Number);
mkdirSync(values.dir, { recursive: true });
const root = mkdtempSync(join(values.dir, "log-"));

interface Figure {
  name: string;
  concurrency: number;
  recordsPerSecond: number;
  megabytesPerSecond: number;
  p50Us: number;
  p99Us: number;
  recordsPerFsync: number;
}

function prewrittenFile(path: string): number {
  const fd = openSync(path, "w+");
  const zeros = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < CEILING_FILE_BYTES; at += zeros.length) writeSync(fd, zeros, 0, zeros.length, at);
  fdatasyncSync(fd);
  return fd;
}

/** The ceiling: C records' bytes, one write, one fdatasync, on a prewritten file, sync calls. */
function measureCeiling(concurrency: number): Figure {
  const path = join(root, `ceiling-${concurrency}.dat`);
  const fd = prewrittenFile(path);
  const batch = Buffer.alloc(RECORD_BYTES * concurrency, 0x61);
  const latency = new Histogram();
  let position = 0;
  let batches = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    if (position + batch.length > CEILING_FILE_BYTES) position = 0;
    writeSync(fd, batch, 0, batch.length, position);
    fdatasyncSync(fd);
    position += batch.length;
    batches++;
    latency.record((performance.now() - t0) * 1000);
  }
  const elapsedS = (performance.now() - started) / 1000;
  closeSync(fd);
  rmSync(path);
  const records = batches * concurrency;
  return {
    name: "ceiling",
    concurrency,
    recordsPerSecond: records / elapsedS,
    megabytesPerSecond: (records * RECORD_BYTES) / elapsedS / 1e6,
    p50Us: latency.percentile(50),
    p99Us: latency.percentile(99),
    recordsPerFsync: concurrency,
  };
}

/**
 * node:fs without descriptors: the log then runs its committer on the event loop and writes
 * through libuv's pool, the alternative to the writer thread that this bench keeps measuring.
 */
function eventLoopFileSystem(): FileSystem {
  return wrapFileSystem(new NodeFileSystem());
}

/** The same ideal loop through node:fs/promises: what a plain async Node writer gets. */
async function measureAsyncCeiling(concurrency: number): Promise<Figure> {
  const path = join(root, `async-${concurrency}.dat`);
  closeSync(prewrittenFile(path));
  const handle = await openAsync(path, "r+");
  const batch = Buffer.alloc(RECORD_BYTES * concurrency, 0x61);
  const latency = new Histogram();
  let position = 0;
  let batches = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    if (position + batch.length > CEILING_FILE_BYTES) position = 0;
    await handle.write(batch, 0, batch.length, position);
    await handle.datasync();
    position += batch.length;
    batches++;
    latency.record((performance.now() - t0) * 1000);
  }
  const elapsedS = (performance.now() - started) / 1000;
  await handle.close();
  rmSync(path);
  const records = batches * concurrency;
  return {
    name: "node-async-ceiling",
    concurrency,
    recordsPerSecond: records / elapsedS,
    megabytesPerSecond: (records * RECORD_BYTES) / elapsedS / 1e6,
    p50Us: latency.percentile(50),
    p99Us: latency.percentile(99),
    recordsPerFsync: concurrency,
  };
}

/**
 * `logbook` as shipped; `growing`: preallocate false; `thread-only`: commitOnEventLoop false
 * (every commit handed to the writer thread); `libuv-pool`: no descriptors, so the committer
 * runs on the event loop through node:fs/promises.
 */
type Variant = "logbook" | "growing" | "thread-only" | "libuv-pool";
const VARIANT_NAMES: Record<Variant, string> = {
  logbook: "logbook",
  growing: "logbook-growing-segments",
  "thread-only": "logbook-writer-thread-only",
  "libuv-pool": "logbook-event-loop-committer",
};

async function measureLog(concurrency: number, variant: Variant = "logbook"): Promise<Figure> {
  const dir = join(root, `log-${concurrency}-${variant}`);
  const log = await Log.open(dir, {
    sync: "always",
    preallocate: variant !== "growing",
    commitOnEventLoop: variant !== "thread-only",
    ...(variant === "libuv-pool" ? { fileSystem: eventLoopFileSystem() } : {}),
  });
  const payload = new Uint8Array(RECORD_BYTES).fill(0x62);
  const latency = new Histogram();
  const before = log.stats();
  let stop = false;
  const started = performance.now();
  const writer = async () => {
    while (!stop) {
      const t0 = performance.now();
      await log.append(payload);
      latency.record((performance.now() - t0) * 1000);
    }
  };
  const timer = setTimeout(() => {
    stop = true;
  }, seconds * 1000);
  await Promise.all(Array.from({ length: concurrency }, writer));
  clearTimeout(timer);
  const elapsedS = (performance.now() - started) / 1000;
  const after = log.stats();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  const records = after.records - before.records;
  return {
    name: VARIANT_NAMES[variant],
    concurrency,
    recordsPerSecond: records / elapsedS,
    megabytesPerSecond: (records * RECORD_BYTES) / elapsedS / 1e6,
    p50Us: latency.percentile(50),
    p99Us: latency.percentile(99),
    recordsPerFsync: records / Math.max(1, after.fsyncs - before.fsyncs),
  };
}

const rows: string[] = [];
const chartBars: Bar[] = [];
console.log(`# bench:log — ${process.argv.slice(1).join(" ")}`);
console.log(
  `# node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, dir ${root}`,
);
console.log(`# ${RECORD_BYTES}-byte records, sync always, ${seconds} s per figure, closed-loop async writers`);
for (const concurrency of levels) {
  const ceiling = measureCeiling(concurrency);
  const log = await measureLog(concurrency);
  const growing = await measureLog(concurrency, "growing");
  const threadOnly = await measureLog(concurrency, "thread-only");
  const eventLoop = await measureLog(concurrency, "libuv-pool");
  const asyncCeiling = await measureAsyncCeiling(concurrency);
  const ratio = log.recordsPerSecond / ceiling.recordsPerSecond;
  for (const figure of [ceiling, log, growing, threadOnly, eventLoop, asyncCeiling]) {
    const ratioToCeiling = figure.recordsPerSecond / ceiling.recordsPerSecond;
    console.log(JSON.stringify({ bench: "log", ...figure, ratioToCeiling }));
    if (figure !== ceiling) chartBars.push({ group: `c=${concurrency}`, series: figure.name, value: ratioToCeiling });
  }
  const cell = (value: number, width: number, digits = 0) => value.toFixed(digits).padStart(width);
  rows.push(
    `| ${cell(concurrency, 4)} | ${cell(ceiling.recordsPerSecond, 9)} | ${cell(log.recordsPerSecond, 9)} | ${cell(ratio, 5, 2)} | ` +
      `${cell(log.megabytesPerSecond, 6, 1)} | ${cell(log.p50Us, 6)} | ${cell(log.p99Us, 6)} | ${cell(log.recordsPerFsync, 9, 1)} | ` +
      `${cell(growing.recordsPerSecond, 9)} | ${cell(threadOnly.recordsPerSecond, 11)} | ${cell(eventLoop.recordsPerSecond, 10)} | ${cell(asyncCeiling.recordsPerSecond, 10)} |`,
  );
}
rmSync(root, { recursive: true, force: true });
if (values.svg !== undefined) {
  writeBarChart(values.svg, {
    title: "bench:log: durable appends against the disk ceiling",
    valueLabel: "records/s ÷ the ceiling's",
    groupLabel: "concurrent writers (c)",
    referenceLabel: "the ceiling: one write + fdatasync of c records per batch, same run",
    bars: chartBars,
    caption: runCaption(),
  });
}
if (!values["json-only"]) {
  console.log(
    "\n|    c | ceiling/s | logbook/s | ratio |   MB/s | p50 µs | p99 µs | rec/fsync | growing/s | thread-only/s | libuv-pool/s | async-fs/s |",
  );
  console.log(
    "|-----:|----------:|----------:|------:|-------:|-------:|-------:|----------:|----------:|--------------:|-----------:|-----------:|",
  );
  for (const row of rows) console.log(row);
  console.log("\nceiling: raw write+fdatasync of c records per batch, node:fs sync calls, prewritten file (same run)");
  console.log(
    "growing: Logbook with preallocate:false; thread-only: commitOnEventLoop:false (every commit through the writer thread)",
  );
  console.log("libuv-pool: Logbook committing on the event loop through node:fs/promises");
  console.log("async-fs: the ceiling loop through node:fs/promises (no framing, no per-record work)");
}
