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
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Histogram } from "./support/histogram.js";
import { median } from "./support/median.js";
import { measureCheckpointAndMemory } from "./support/store-checkpoint.js";
import { measureRecovery } from "./support/store-recovery.js";
import { type Figure, printLogbookFigures, printTable, roundRatios, writeChart } from "./support/store-report.js";
import { GET_KEYS, KEY_BYTES, keyFor, openDriver, SYSTEMS, type System, VALUE, VALUE_BYTES } from "./support/store-systems.js";

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

/** Figures by system and concurrency, one per round (a missing run leaves its round out). */
function runRounds(systems: System[], levels: number[], root: string): Map<string, Figure[]> {
  const self = fileURLToPath(import.meta.url);
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
  return runs;
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
  const runs = runRounds(systems, levels, root);
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
  if (values.svg !== undefined) writeChart(values.svg, runs, systems, levels);
  if (values["json-only"]) return;
  printTable(runs, systems, levels, rounds, ratios, getRatios);
  printLogbookFigures(recovery, checkpoint);
}

await main();
