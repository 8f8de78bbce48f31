/**
 * npm run bench:store — durable puts (16-byte key, 100-byte value, sync on every write) at
 * concurrency 1, 16 and 256, and random gets, for Logbook's Store and, in the same run, its
 * peers with their durable settings (docs/benchmarks.md):
 *   lmdb          open({ overlappingSync: false }), await put()
 *   classic-level put(k, v, { sync: true }), UV_THREADPOOL_SIZE=128 at c >= 16
 *   better-sqlite3 journal_mode=WAL, synchronous=FULL, one statement per transaction
 * Each (system, concurrency) runs in a child process of its own (so the thread pool size can
 * be set, and memory does not carry over), writing for --warm-up-seconds before it measures
 * (every system alike: the first puts insert keys, later ones overwrite them, and JIT tiers
 * settle). The whole comparison runs --rounds times, the systems in a rotated order each round;
 * a figure is the median over the rounds, a ratio the median of the rounds' ratios (with their
 * range): this machine's speed drifts by tens of percent from minute to minute, and a pair
 * measured one after the other inside a round shares most of that drift.
 * Then, for Logbook: recovery of a large log (records/s, MB/s), a checkpoint of 1 million keys
 * (time, size), memory per key.
 *
 * Options: --seconds N (per figure, default 5), --warm-up-seconds N (default 1), --rounds N
 * (default 3), --concurrency 1,16,256, --systems a,b, --recovery-mib N (default 1024),
 * --keys N (default 1000000; either 0 skips its figure), --dir DIR, --json-only, --svg PATH
 * (writes Logbook's ratio to each peer as a bar chart there; no chart without it).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Log, Store } from "../src/index.js";
import { Histogram } from "./support/histogram.js";
import { median } from "./support/median.js";
import { runCaption } from "./support/run-caption.js";
import { type Bar, writeBarChart } from "./support/svg-chart.js";

const KEY_BYTES = 16;
const VALUE_BYTES = 100;
const GET_KEYS = 100_000;
const SYSTEMS = ["logbook", "lmdb", "classic-level", "better-sqlite3"] as const;
type System = (typeof SYSTEMS)[number];

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    "warm-up-seconds": { type: "string", default: "1" },
    rounds: { type: "string", default: "3" },
    concurrency: { type: "string", default: "1,16,256" },
    systems: { type: "string", default: SYSTEMS.join(",") },
    "recovery-mib": { type: "string", default: "1024" },
    keys: { type: "string", default: "1000000" },
    dir: { type: "string", default: "bench-data" },
    "json-only": { type: "boolean", default: false },
    svg: { type: "string" },
    one: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const warmUpSeconds = Number(values["warm-up-seconds"]);
const rounds = Number(values.rounds);

function keyFor(i: number): string {
  return `key-${String(i).padStart(KEY_BYTES - 4, "0")}`;
}
const VALUE = "v".repeat(VALUE_BYTES);

interface Driver {
  put(key: string, value: string): Promise<unknown>;
  get(key: string): Promise<unknown> | unknown;
  close(): Promise<void>;
  /** Records per fsync, where the system can tell. */
  recordsPerFsync?(): number;
}

async function openDriver(system: System, dir: string): Promise<Driver> {
  if (system === "logbook") {
    const db = await Store.open(dir, { valueEncoding: "utf8", checkpointEveryBytes: 0 });
    return {
      put: (k, v) => db.put(k, v),
      get: (k) => db.getSync(k),
      close: () => db.close(),
      recordsPerFsync: () => db.logStats.records / Math.max(1, db.logStats.fsyncs),
    };
  }
  if (system === "lmdb") {
    const { open } = await import("lmdb");
    const db = open({ path: dir, overlappingSync: false });
    return { put: (k, v) => db.put(k, v), get: (k) => db.get(k), close: () => db.close() };
  }
  if (system === "classic-level") {
    const { ClassicLevel } = await import("classic-level");
    const db = new ClassicLevel<string, string>(dir);
    await db.open();
    return { put: (k, v) => db.put(k, v, { sync: true }), get: (k) => db.get(k), close: () => db.close() };
  }
  const { default: Database } = await import("better-sqlite3");
  mkdirSync(dir, { recursive: true });
  const db = new Database(join(dir, "db.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID");
  const put = db.prepare("INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
  const get = db.prepare("SELECT v FROM kv WHERE k = ?");
  return {
    put: async (k, v) => put.run(k, v),
    get: (k) => (get.get(k) as { v: string } | undefined)?.v,
    close: async () => {
      db.close();
    },
  };
}

/** Runs in a child: durable puts from `concurrency` closed-loop writers, then random gets. */
async function runOne(system: System, concurrency: number, root: string): Promise<void> {
  const dir = join(root, `${system}-${concurrency}`);
  const db = await openDriver(system, dir);
  let next = 0;
  // A deadline, not a timer: better-sqlite3's synchronous calls would starve a timer forever.
  const writeUntil = async (deadline: number, latency: Histogram) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          const t0 = performance.now();
          await db.put(keyFor(next++ % GET_KEYS), VALUE);
          latency.record((performance.now() - t0) * 1000);
        }
      }),
    );
  await writeUntil(performance.now() + warmUpSeconds * 1000, new Histogram());
  const latency = new Histogram();
  const started = performance.now();
  await writeUntil(started + seconds * 1000, latency);
  const putSeconds = (performance.now() - started) / 1000;
  const puts = latency.count;
  // Gets over keys that exist (the puts above wrote them, cycling).
  const existing = Math.min(next, GET_KEYS);
  let gets = 0;
  const getStarted = performance.now();
  const getDeadline = getStarted + Math.min(2000, seconds * 500);
  while (performance.now() < getDeadline) {
    for (let i = 0; i < 1000; i++) await db.get(keyFor((gets++ * 7919) % existing));
  }
  const getSeconds = (performance.now() - getStarted) / 1000;
  const recordsPerFsync = db.recordsPerFsync?.();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      bench: "store",
      figure: "puts",
      system,
      concurrency,
      putsPerSecond: puts / putSeconds,
      p50Us: latency.percentile(50),
      p99Us: latency.percentile(99),
      getsPerSecond: gets / getSeconds,
      ...(recordsPerFsync === undefined ? {} : { recordsPerFsync }),
    }),
  );
}

async function measureRecovery(root: string, mebibytes: number): Promise<Record<string, number>> {
  const dir = join(root, "recovery");
  {
    // Load quickly with sync "none"; what is measured is the reopen.
    const db = await Store.open(dir, { sync: "none", valueEncoding: "utf8", checkpointEveryBytes: 0 });
    const target = mebibytes * 1024 * 1024;
    let i = 0;
    while (db.logStats.recordBytes < target) {
      const batch: Promise<number>[] = [];
      for (let j = 0; j < 1000; j++, i++) batch.push(db.put(keyFor(i % 1_000_000), VALUE));
      await Promise.all(batch);
    }
    await db.close();
  }
  const logBytes = statDirBytes(join(dir, "log"));
  const startedMs = performance.now();
  const db = await Store.open(dir, { valueEncoding: "utf8", checkpointEveryBytes: 0 });
  const seconds = (performance.now() - startedMs) / 1000;
  const report = db.recovery;
  await db.close();
  const verifyStarted = performance.now();
  const log = await Log.open(join(dir, "log"), { readOnly: true, verifyOnOpen: "full" });
  const verifySeconds = (performance.now() - verifyStarted) / 1000;
  const scanned = log.recovery.scannedBytes;
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    logBytes,
    records: report.recordsReplayed,
    openSeconds: seconds,
    recordsPerSecond: report.recordsReplayed / seconds,
    megabytesPerSecond: report.bytesReplayed / 1e6 / seconds,
    logMegabytesPerSecond: scanned / 1e6 / seconds,
    verifyGigabytesPerSecond: scanned / 1e9 / verifySeconds,
  };
}

function statDirBytes(dir: string): number {
  let total = 0;
  for (const name of (spawnSync("ls", [dir], { encoding: "utf8" }).stdout ?? "").split("\n")) {
    if (name) total += statSync(join(dir, name)).size;
  }
  return total;
}

/** Distinct value strings per key, as a store holds after recovery (no shared string). */
function valueFor(i: number): string {
  return `${i}:`.padEnd(VALUE_BYTES, "v");
}

async function measureCheckpointAndMemory(root: string, keys: number): Promise<Record<string, number>> {
  const dir = join(root, "checkpoint");
  let checkpointSeconds = 0;
  let checkpointBytes = 0;
  {
    const db = await Store.open(dir, { sync: "none", valueEncoding: "utf8", checkpointEveryBytes: 0 });
    for (let i = 0; i < keys; i += 1000) {
      const batch: Promise<number>[] = [];
      for (let j = i; j < Math.min(keys, i + 1000); j++) batch.push(db.put(keyFor(j), valueFor(j)));
      await Promise.all(batch);
    }
    const started = performance.now();
    const info = await db.checkpoint();
    checkpointSeconds = (performance.now() - started) / 1000;
    checkpointBytes = info?.bytes ?? 0;
    await db.close();
  }
  // Memory of the state as a recovered store holds it: reopened from the checkpoint.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const loadStarted = performance.now();
  const db = await Store.open(dir, { valueEncoding: "utf8", checkpointEveryBytes: 0 });
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  gc?.();
  const heapBytes = process.memoryUsage().heapUsed - heapBefore;
  const keyValueBytes = db.stats().keyValueBytes;
  const loaded = db.stats().keys;
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    keys: loaded,
    checkpointSeconds,
    checkpointBytes,
    loadSeconds,
    heapBytesPerKey: heapBytes / loaded,
    keyValueBytesPerKey: keyValueBytes / loaded,
    overheadBytesPerKey: (heapBytes - keyValueBytes) / loaded,
  };
}

interface Figure {
  putsPerSecond: number;
  p99Us: number;
  getsPerSecond: number;
  round: number;
}

/** The systems in the order a round runs them: each starts one round in turn. */
function rotated<T>(list: readonly T[], round: number): T[] {
  const by = round % list.length;
  return [...list.slice(by), ...list.slice(0, by)];
}

/** Runs one (system, concurrency) in a child and returns its figures, or undefined (printed) when it failed. */
function runChild(self: string, system: System, concurrency: number, root: string): Omit<Figure, "round"> | undefined {
  const env = { ...process.env, ...(system === "classic-level" && concurrency >= 16 ? { UV_THREADPOOL_SIZE: "128" } : {}) };
  const child = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      self,
      "--seconds",
      String(seconds),
      "--warm-up-seconds",
      String(warmUpSeconds),
      "--one",
      `${system},${concurrency},${root}`,
    ],
    { env, encoding: "utf8", timeout: ((seconds + warmUpSeconds) * 4 + 60) * 1000 },
  );
  const line = child.stdout.split("\n").find((l) => l.startsWith("{"));
  if (line === undefined) {
    console.log(JSON.stringify({ bench: "store", system, concurrency, error: child.stderr.slice(-500) }));
    return undefined;
  }
  console.log(line);
  return JSON.parse(line);
}

/** Logbook's figure over the best peer's, in each round where both ran. */
function roundRatios(runs: Map<string, Figure[]>, systems: System[], c: number, pick: (f: Figure) => number): number[] {
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

async function main(): Promise<void> {
  if (values.one !== undefined) {
    const [system, concurrency, root] = values.one.split(",");
    await runOne(system as System, Number(concurrency), root as string);
    return;
  }
  mkdirSync(values.dir, { recursive: true });
  const root = mkdtempSync(join(values.dir, "store-"));
  const systems = values.systems.split(",") as System[];
  const levels = values.concurrency.split(",").map(Number);
  console.log(`# bench:store — ${process.argv.slice(2).join(" ")}`);
  console.log(
    `# node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, dir ${root}`,
  );
  console.log(
    `# ${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values, durable puts, closed-loop writers; ` +
      `${warmUpSeconds} s of warm-up and ${seconds} s per figure, ${rounds} rounds (medians)`,
  );
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer");
  if (!(warmUpSeconds >= 0)) throw new Error("--warm-up-seconds must be a number of seconds, 0 or more");
  const self = fileURLToPath(import.meta.url);
  /** Figures by system and concurrency, one per round (a missing run leaves its round out). */
  const runs = new Map<string, Figure[]>();
  for (let round = 0; round < rounds; round++) {
    for (const concurrency of levels) {
      for (const system of rotated(systems, round)) {
        const figure = runChild(self, system, concurrency, root);
        if (figure === undefined) continue;
        const key = `${system} ${concurrency}`;
        runs.set(key, [...(runs.get(key) ?? []), { ...figure, round }]);
      }
    }
  }
  // 0 skips a figure (quick runs of the puts alone); anything else must be a positive count.
  const recoveryMebibytes = Number(values["recovery-mib"]);
  const keys = Number(values.keys);
  for (const [name, value] of [
    ["--recovery-mib", recoveryMebibytes],
    ["--keys", keys],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
  }
  const recovery = recoveryMebibytes > 0 ? await measureRecovery(root, recoveryMebibytes) : undefined;
  if (recovery) console.log(JSON.stringify({ bench: "store", figure: "recovery", ...recovery }));
  const checkpoint = keys > 0 ? await measureCheckpointAndMemory(root, keys) : undefined;
  if (checkpoint) console.log(JSON.stringify({ bench: "store", figure: "checkpoint-and-memory", ...checkpoint }));
  rmSync(root, { recursive: true, force: true });
  const ratios = levels.map((c) => roundRatios(runs, systems, c, (f) => f.putsPerSecond));
  const getRatios = roundRatios(runs, systems, levels[0] as number, (f) => f.getsPerSecond);
  for (const [i, c] of levels.entries()) {
    const list = ratios[i] as number[];
    if (list.length > 0)
      console.log(JSON.stringify({ bench: "store", figure: "puts-ratio", concurrency: c, median: median(list), rounds: list }));
  }
  const bars = chartBars(runs, systems, levels);
  if (values.svg !== undefined && bars.length === 0) console.error("bench:store: no peer ran, so no chart was written");
  else if (values.svg !== undefined) {
    writeBarChart(values.svg, {
      title: "bench:store: Logbook's durable puts and its gets against each peer",
      valueLabel: "logbook's operations/s ÷ the peer's",
      groupLabel: "operation, concurrent writers (c); whiskers: lowest and highest round",
      referenceLabel: "the peer, measured in the same round",
      bars,
      caption: runCaption(),
    });
  }
  if (values["json-only"]) return;
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

await main();
