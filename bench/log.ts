/**
 * npm run bench:log — durable appends of 116-byte records (a 16-byte key and a 100-byte value)
 * at concurrency 1, 16 and 256, against the ceiling measured in the same run: the ideal group
 * commit for C closed-loop writers, i.e. a raw loop of node:fs synchronous calls that writes C
 * records' bytes (no framing) with one write and one fdatasync per batch, on a prewritten file.
 *
 * Options: --seconds N (per figure, default 5), --concurrency 1,16,256, --dir DIR (default: a
 * temp dir on the disk of the working directory), --json-only.
 */
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Log } from "../src/index.js";
import { Histogram } from "./support/histogram.js";

const RECORD_BYTES = 116;
const CEILING_FILE_BYTES = 256 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    concurrency: { type: "string", default: "1,16,256" },
    dir: { type: "string", default: "bench-data" },
    "json-only": { type: "boolean", default: false },
  },
});
const seconds = Number(values.seconds);
const levels = values.concurrency.split(",").map(Number);
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

async function measureLog(concurrency: number): Promise<Figure> {
  const dir = join(root, `log-${concurrency}`);
  const log = await Log.open(dir, { sync: "always" });
  const payload = new Uint8Array(RECORD_BYTES).fill(0x62);
  const latency = new Histogram();
  // Let the background preallocation of the spare segment finish before timing.
  await new Promise((resolve) => setTimeout(resolve, 300));
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
    name: "logbook",
    concurrency,
    recordsPerSecond: records / elapsedS,
    megabytesPerSecond: (records * RECORD_BYTES) / elapsedS / 1e6,
    p50Us: latency.percentile(50),
    p99Us: latency.percentile(99),
    recordsPerFsync: records / Math.max(1, after.fsyncs - before.fsyncs),
  };
}

const rows: string[] = [];
console.log(`# bench:log — ${process.argv.slice(1).join(" ")}`);
console.log(
  `# node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, dir ${root}`,
);
console.log(`# ${RECORD_BYTES}-byte records, sync always, ${seconds} s per figure, closed-loop async writers`);
for (const concurrency of levels) {
  const ceiling = measureCeiling(concurrency);
  const log = await measureLog(concurrency);
  const ratio = log.recordsPerSecond / ceiling.recordsPerSecond;
  for (const figure of [ceiling, log]) {
    console.log(JSON.stringify({ bench: "log", ...figure, ...(figure === log ? { ratioToCeiling: ratio } : {}) }));
  }
  rows.push(
    `| ${String(concurrency).padStart(4)} | ${ceiling.recordsPerSecond.toFixed(0).padStart(9)} | ${log.recordsPerSecond
      .toFixed(0)
      .padStart(9)} | ${ratio.toFixed(2).padStart(5)} | ${log.megabytesPerSecond.toFixed(1).padStart(6)} | ${log.p50Us
      .toFixed(0)
      .padStart(6)} | ${log.p99Us.toFixed(0).padStart(6)} | ${log.recordsPerFsync.toFixed(1).padStart(7)} |`,
  );
}
rmSync(root, { recursive: true, force: true });
if (!values["json-only"]) {
  console.log("\n|    c | ceiling/s | logbook/s | ratio |   MB/s | p50 µs | p99 µs | rec/fsync |");
  console.log("|-----:|----------:|----------:|------:|-------:|-------:|-------:|--------:|");
  for (const row of rows) console.log(row);
}
