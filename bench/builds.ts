/**
 * npm run bench:builds -- --base REV — this tree (with its uncommitted changes) against another
 * git revision built beside it, in the same run: does a change cost anything?
 *
 * REV is checked out as a git worktree in a temporary directory that shares this tree's
 * node_modules (a symlink); when bench:server is among the benches, both trees are compiled
 * (`npx tsc -p tsconfig.build.json`) since it serves dist/. Each round runs every bench four
 * times in ABBA order (this tree, base, base, this tree; the next round starts with the base):
 * a drift that is linear over the round falls equally on both builds. Both builds' benches
 * write to the same directory, so to the same disk. A figure's ratio in a round is the mean of
 * this tree's two runs over the mean of the base's two; the table shows the median over rounds and every
 * round's ratio. Figures no Logbook code touches (the raw disk's ceiling, Redis, the bare
 * node:http floor) are marked "control": their ratios are what this machine's noise alone does.
 * The worktree and the data directory are removed at the end, also on an error or a signal.
 *
 * Options: --base REV (required), --rounds N (default 3), --bench log,store,server (default
 * log,store), --seconds S (per figure, default 2), --svg PATH (a chart of the ratios; none
 * without it), --install-peers (passed to bench:server), --dir DIR (default bench-data).
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { median } from "./support/median.js";
import { machineLine, runCaption } from "./support/run-caption.js";
import { type Bar, writeBarChart } from "./support/svg-chart.js";

/** One figure of one run: a throughput, higher is better. */
interface Measurement {
  figure: string;
  concurrency: number;
  value: number;
  /** No Logbook code runs in it: its ratio between the builds is noise. */
  control: boolean;
}

interface BenchSpec {
  /** Node flags, then the script and its arguments, run from the tree's root. */
  command(seconds: string, dir: string, installPeers: boolean): string[];
  /** The tree must be compiled first (the bench runs dist/). */
  needsBuild: boolean;
  /** The figures of one JSON line the bench prints. */
  read(line: Record<string, unknown>): Measurement[];
}

const num = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined);

const BENCHES: Record<string, BenchSpec> = {
  log: {
    command: (seconds, dir) => ["bench/log.ts", "--seconds", seconds, "--concurrency", "1,16,256", "--dir", dir, "--json-only"],
    needsBuild: false,
    read: (line) => {
      const [value, concurrency] = [num(line.recordsPerSecond), num(line.concurrency)];
      if (line.bench !== "log" || value === undefined || concurrency === undefined) return [];
      const name = String(line.name);
      return [{ figure: `log ${name}`, concurrency, value, control: name.includes("ceiling") }];
    },
  },
  store: {
    command: (seconds, dir) => [
      "--expose-gc",
      "bench/store.ts",
      ...["--seconds", seconds, "--rounds", "1", "--concurrency", "1,16,256", "--systems", "logbook"],
      ...["--recovery-mib", "0", "--keys", "0", "--dir", dir, "--json-only"],
    ],
    needsBuild: false,
    read: (line) => {
      const [puts, gets, concurrency] = [num(line.putsPerSecond), num(line.getsPerSecond), num(line.concurrency)];
      if (line.bench !== "store" || line.figure !== "puts" || concurrency === undefined) return [];
      const figure = `store ${String(line.system)}`;
      return [
        ...(puts === undefined ? [] : [{ figure: `${figure} puts`, concurrency, value: puts, control: false }]),
        ...(gets === undefined ? [] : [{ figure: `${figure} gets`, concurrency, value: gets, control: false }]),
      ];
    },
  },
  server: {
    command: (seconds, dir, installPeers) => [
      "bench/server.ts",
      ...["--only", "peers", "--seconds", seconds, "--dir", dir, "--json-only"],
      ...(installPeers ? ["--install-peers"] : []),
    ],
    needsBuild: true,
    read: (line) => {
      const [value, concurrency] = [num(line.requestsPerSecond), num(line.connections)];
      if (line.bench !== "server" || value === undefined || concurrency === undefined) return [];
      const system = String(line.system);
      return [{ figure: `server ${system} ${String(line.operation)}`, concurrency, value, control: system !== "logbook" }];
    },
  },
};

type Side = "new" | "base";
interface Run {
  round: number;
  side: Side;
  measurements: Measurement[];
}
interface Comparison {
  figure: string;
  concurrency: number;
  control: boolean;
  median: number;
  rounds: number[];
}

function options() {
  const { values } = parseArgs({
    options: {
      base: { type: "string" },
      rounds: { type: "string", default: "3" },
      bench: { type: "string", default: "log,store" },
      seconds: { type: "string", default: "2" },
      svg: { type: "string" },
      "install-peers": { type: "boolean", default: false },
      dir: { type: "string", default: "bench-data" },
    },
  });
  if (values.base === undefined) throw new Error("--base REV is required: the git revision to compare this tree with");
  const rounds = Number(values.rounds);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error("--rounds must be a positive integer");
  if (!(Number(values.seconds) > 0)) throw new Error("--seconds must be a positive number");
  const benches = values.bench.split(",");
  for (const name of benches) if (!(name in BENCHES)) throw new Error(`--bench: unknown ${name} (known: log, store, server)`);
  return { ...values, base: values.base, rounds, benches };
}

function git(args: string[]): string {
  return execFileSync("git", args, { encoding: "utf8" }).trim();
}

/** A worktree of `commit` in a temporary directory, with the node_modules of the tree at `root`. */
function addBaseTree(commit: string, root: string): string {
  const dir = mkdtempSync(join(tmpdir(), "logbook-base-"));
  git(["worktree", "add", "--detach", dir, commit]);
  symlinkSync(realpathSync(join(root, "node_modules")), join(dir, "node_modules"), "dir");
  return dir;
}

/** Unlinks the node_modules link first, so that nothing can reach through it into the shared one. */
function removeBaseTree(dir: string): void {
  rmSync(join(dir, "node_modules"), { force: true });
  try {
    git(["worktree", "remove", "--force", dir]);
  } catch (error) {
    console.error(`bench:builds: git worktree remove ${dir}: ${(error as Error).message}`);
  }
  rmSync(dir, { recursive: true, force: true });
  spawnSync("git", ["worktree", "prune"]);
}

function build(tree: string): void {
  console.error(`bench:builds: compiling ${tree}`);
  execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: tree, stdio: "inherit" });
}

/** The bench running now, in a process group of its own, so that a signal can end all of it. */
let running: ChildProcess | undefined;

/** Runs one bench in `tree` and returns the figures of the JSON lines it printed. */
function runBench(tree: string, spec: BenchSpec, args: string[]): Promise<Measurement[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      cwd: tree,
      stdio: ["ignore", "pipe", "inherit"],
      detached: true,
    });
    running = child;
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      running = undefined;
      if (code !== 0) return reject(new Error(`${args.join(" ")} in ${tree} ended with ${code ?? signal}`));
      const lines = output.split("\n").filter((line) => line.startsWith("{"));
      resolvePromise(lines.flatMap((line) => spec.read(JSON.parse(line))));
    });
  });
}

/** This tree first in even rounds, the base first in odd ones; each twice, ABBA. */
function abba(round: number): Side[] {
  return round % 2 === 0 ? ["new", "base", "base", "new"] : ["base", "new", "new", "base"];
}

/** Each figure's ratio, this tree over the base, in every round where both ran it; in the order first printed. */
function compare(runs: readonly Run[], rounds: number): Comparison[] {
  const keys = new Map<string, Measurement>();
  for (const m of runs.flatMap((run) => run.measurements))
    keys.set(`${m.figure} ${m.concurrency}`, keys.get(`${m.figure} ${m.concurrency}`) ?? m);
  return [...keys.values()].flatMap(({ figure, concurrency, control }) => {
    const sum = (round: number, side: Side) =>
      runs
        .filter((run) => run.round === round && run.side === side)
        .flatMap((run) => run.measurements.filter((m) => m.figure === figure && m.concurrency === concurrency))
        .reduce((total, m) => ({ value: total.value + m.value, count: total.count + 1 }), { value: 0, count: 0 });
    const ratios: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const [ours, base] = [sum(round, "new"), sum(round, "base")];
      if (ours.count > 0 && base.count > 0) ratios.push(ours.value / ours.count / (base.value / base.count));
    }
    return ratios.length === 0 ? [] : [{ figure, concurrency, control, median: median(ratios), rounds: ratios }];
  });
}

function printTable(comparisons: readonly Comparison[], baseLabel: string): void {
  console.log(`\n| figure | c | this tree / ${baseLabel}, median | rounds |`);
  console.log("|---|---:|---:|---|");
  for (const c of comparisons) {
    const name = c.control ? `${c.figure} (control)` : c.figure;
    console.log(`| ${name} | ${c.concurrency} | ${c.median.toFixed(2)} | ${c.rounds.map((r) => r.toFixed(2)).join(", ")} |`);
  }
}

function writeChart(path: string, comparisons: readonly Comparison[], labels: { ours: string; base: string }, rounds: number) {
  const bars: Bar[] = comparisons.map((c) => ({
    group: c.control ? `${c.figure} (control)` : c.figure,
    series: `c=${c.concurrency}`,
    value: c.median,
    ...(c.rounds.length > 1 ? { range: [Math.min(...c.rounds), Math.max(...c.rounds)] as const } : {}),
  }));
  writeBarChart(path, {
    title: `bench:builds: this tree (${labels.ours}) against ${labels.base}`,
    valueLabel: `this tree's throughput ÷ the base build's (median of ${rounds} ABBA round${rounds === 1 ? "" : "s"})`,
    groupLabel: "figure; whiskers: lowest and highest round",
    referenceLabel: `${labels.base}, built beside it and run in turn with it`,
    bars,
    caption: runCaption(`npm run bench:builds -- ${process.argv.slice(2).join(" ")}`),
    orientation: "horizontal",
  });
}

/** Every round, every bench, ABBA: the runs in the order they happened. */
async function runRounds(trees: Record<Side, string>, opts: ReturnType<typeof options>, dataDir: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    for (const name of opts.benches) {
      const spec = BENCHES[name] as BenchSpec;
      const args = spec.command(opts.seconds, dataDir, opts["install-peers"]);
      for (const side of abba(round)) {
        console.error(`bench:builds: round ${round + 1}/${opts.rounds}, ${name}, ${side === "new" ? "this tree" : "base"}`);
        runs.push({ round, side, measurements: await runBench(trees[side], spec, args) });
      }
    }
  }
  return runs;
}

/** Ends the running bench's process group, cleans up, and exits as the signal would. */
function onSignal(cleanup: () => void) {
  return (signal: NodeJS.Signals) => {
    if (running?.pid !== undefined) {
      try {
        process.kill(-running.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    cleanup();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
}

async function main(): Promise<void> {
  const opts = options();
  const commit = git(["rev-parse", "--verify", `${opts.base}^{commit}`]);
  const labels = { ours: git(["describe", "--always", "--dirty"]), base: `${opts.base} (${commit.slice(0, 7)})` };
  mkdirSync(opts.dir, { recursive: true });
  const dataDir = resolve(mkdtempSync(join(opts.dir, "builds-")));
  let baseTree: string | undefined;
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    if (baseTree !== undefined) removeBaseTree(baseTree);
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once("SIGINT", onSignal(cleanup));
  process.once("SIGTERM", onSignal(cleanup));
  try {
    const root = git(["rev-parse", "--show-toplevel"]);
    baseTree = addBaseTree(commit, root);
    const trees: Record<Side, string> = { new: root, base: baseTree };
    if (opts.benches.some((name) => BENCHES[name]?.needsBuild)) for (const tree of Object.values(trees)) build(tree);
    console.log(
      `# bench:builds — this tree (${labels.ours}) against ${labels.base}, ${opts.rounds} ABBA round${opts.rounds === 1 ? "" : "s"}`,
    );
    console.log(`# ${machineLine()}`);
    for (const name of opts.benches) {
      console.log(`# node --import tsx ${BENCHES[name]?.command(opts.seconds, dataDir, opts["install-peers"]).join(" ")}`);
    }
    const comparisons = compare(await runRounds(trees, opts, dataDir), opts.rounds);
    for (const c of comparisons) console.log(JSON.stringify({ bench: "builds", ...c }));
    printTable(comparisons, labels.base);
    if (opts.svg !== undefined) writeChart(opts.svg, comparisons, labels, opts.rounds);
  } finally {
    cleanup();
  }
}

await main().catch((error: Error) => {
  console.error(`bench:builds: ${error.message}`);
  process.exitCode = 1;
});
