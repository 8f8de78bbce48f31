/**
 * bench:server's cost of observability: A/B pairs of `logbook serve`, "all off" against one
 * observed server, loaded at the same moment from load generator processes of their own;
 * the figures are medians over rounds of the ratio within each pair (see observabilityCost).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, quartiles } from "./median.js";
import { startOtlpSink } from "./otlp-sink.js";
import { cpuSeconds, type Observed, startLogbook, stopLogbook } from "./server-process.js";

/** What can be compared with all off; --modes picks (default: metricsTracing,allOn,offAgain). */
export function observedModeTable(traceRatio: number) {
  const sampledLabel = `${traceRatio * 100}% sampled`;
  return {
    metricsTracing: {
      label: `metrics + tracing (${sampledLabel})`,
      observed: { metrics: true, tracing: true, accessLog: false },
    },
    allOn: { label: "metrics + tracing + access log", observed: { metrics: true, tracing: true, accessLog: true } },
    offAgain: { label: "all off again (the noise)", observed: { metrics: false, tracing: false, accessLog: false } },
    metrics: { label: "metrics only", observed: { metrics: true, tracing: false, accessLog: false } },
    tracing: { label: `tracing only (${sampledLabel})`, observed: { metrics: false, tracing: true, accessLog: false } },
    accessLog: { label: "access log only", observed: { metrics: false, tracing: false, accessLog: true } },
  } as const;
}
export type ObservedModeTable = ReturnType<typeof observedModeTable>;
export type ObservedMode = keyof ObservedModeTable;

/** The modes named by --modes, in its order; an unknown name is an error. */
export function parseObservedModes(text: string, table: ObservedModeTable): ObservedMode[] {
  return text.split(",").map((mode) => {
    if (!(mode in table)) throw new Error(`--modes: unknown ${mode} (known: ${Object.keys(table).join(", ")})`);
    return mode as ObservedMode;
  });
}

const ALL_OFF: Observed = { metrics: false, tracing: false, accessLog: false };
/** PUTs overwrite this many keys, so that no server's state (and heap) grows more than another's. */
const OBSERVED_KEYS = 100_000;

export interface ObservabilityCost {
  connections: number;
  mode: ObservedMode;
  rounds: number;
  /** Medians over rounds of the ratio to "all off" measured at the same time: flat out. */
  throughputRatio: number;
  /** CPU ratios: both offered the same rate (observedPair). */
  mainThreadCpuRatio: number;
  /** The middle half of the rounds' event-loop ratios: how far one run can be trusted. */
  mainThreadCpuRatioQuartiles: [number, number];
  processCpuRatio: number;
  requestsPerSecond: number;
  requestsPerSecondOff: number;
  mainThreadCpuMicroseconds: number;
  mainThreadCpuOffMicroseconds: number;
}

/** What the comparison runs: bench:server's flags. */
export interface ObservabilitySettings {
  /** Of each figure (--seconds). */
  seconds: number;
  /**
   * Seconds of load each fresh pair takes before it is measured (--warm-up-seconds): JIT, pools,
   * the keys' first writes. At a low sampling ratio the span code runs rarely and stays cold
   * for a while, so the figure depends on this setting (runs: docs/benchmarks.md).
   */
  warmUpSeconds: number;
  rounds: number;
  traceRatio: number;
  connectionCounts: number[];
  modes: ObservedMode[];
  table: ObservedModeTable;
}

const PUT_LOAD = fileURLToPath(new URL("./put-load.ts", import.meta.url));

/** PUTs over OBSERVED_KEYS from a load generator process of its own (see put-load.ts). */
async function putLoadProcess(
  url: string,
  connections: number,
  durationSeconds: number,
  ratePerSecond: number | undefined,
): Promise<{ requests: number; requestsPerSecond: number; errors: number }> {
  const rate = ratePerSecond === undefined ? [] : [String(Math.round(ratePerSecond))];
  const child = spawn(
    process.execPath,
    ["--import", "tsx", PUT_LOAD, url, String(connections), String(durationSeconds), String(OBSERVED_KEYS), ...rate],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the load generator exited with ${code}`);
  return JSON.parse(output);
}

/**
 * Durable PUTs against one server for `durationSeconds` (as fast as it answers, or at
 * `ratePerSecond`), and the CPU its process and its event loop spent per request.
 */
async function observedLoad(
  server: { child: ChildProcess; url: string },
  connections: number,
  durationSeconds: number,
  ratePerSecond?: number,
): Promise<{ requests: number; requestsPerSecond: number; processCpu: number; mainThreadCpu: number }> {
  const pid = server.child.pid as number;
  const before = { process: cpuSeconds(pid), main: cpuSeconds(pid, "main") };
  const figure = await putLoadProcess(server.url, connections, durationSeconds, ratePerSecond);
  if (figure.errors > 0) throw new Error(`${figure.errors} PUTs failed`);
  const after = { process: cpuSeconds(pid), main: cpuSeconds(pid, "main") };
  return {
    requests: figure.requests,
    requestsPerSecond: figure.requestsPerSecond,
    processCpu: (after.process - before.process) / figure.requests,
    mainThreadCpu: (after.main - before.main) / figure.requests,
  };
}

type PairLoad = Awaited<ReturnType<typeof observedLoad>>;

/**
 * Both servers of a pair leave every group commit to the log's writer thread. By default the
 * event loop commits itself when it finds the log idle (commitOnEventLoop), and how often it
 * does (its writev and fdatasync counted as its own CPU) depends on how requests happen to
 * arrive, not on observability, and pairs of identical servers then differ in event-loop CPU
 * per request. Taking that work off both sides makes the denominator smaller, so a cost reads larger if anything.
 */
const PAIR_FLAGS = ["--no-commit-on-event-loop"];

/** Of the rate both servers of a pair reached flat out, what they are then both offered. */
const SAME_LOAD_FRACTION = 0.7;

/**
 * One A/B pair for `mode`: "all off" and the observed server, started afresh, warmed up, then
 * loaded at the same time, each from a load generator process of its own: first flat out
 * (throughput), then both at the same rate, SAME_LOAD_FRACTION of the lower one (CPU). A
 * server's CPU per request falls as its throughput rises (more writes share each group commit,
 * each event-loop turn and each write(2)), and two servers on one disk get unequal shares of
 * it from moment to moment: flat out, CPU per request measured that luck as much as the code.
 * Fresh processes every round: a process keeps its own luck (code layout, heap shape) for its
 * whole life, so two long-lived identical servers can differ for a whole run.
 * Which load starts first alternates with the round.
 */
async function observedPair(
  settings: ObservabilitySettings,
  root: string,
  mode: ObservedMode,
  connections: number,
  round: number,
  otlpUrl: string,
): Promise<{ flatOut: { off: PairLoad; on: PairLoad }; sameLoad: { off: PairLoad; on: PairLoad } }> {
  const traceExport = { otlpUrl, traceRatio: settings.traceRatio };
  const dirs = { off: join(root, `obs-${round}-off`), on: join(root, `obs-${round}-${mode}`) };
  const off = await startLogbook(dirs.off, ALL_OFF, traceExport, PAIR_FLAGS);
  const on = await startLogbook(dirs.on, settings.table[mode].observed, traceExport, PAIR_FLAGS).catch(async (error: unknown) => {
    await stopLogbook(off, dirs.off);
    throw error;
  });
  try {
    const [first, second] = round % 2 === 0 ? [off, on] : [on, off];
    const both = async (ratePerSecond?: number, durationSeconds = settings.seconds) => {
      const [x, y] = await Promise.all([
        observedLoad(first, connections, durationSeconds, ratePerSecond),
        observedLoad(second, connections, durationSeconds, ratePerSecond),
      ]);
      return first === off ? { off: x, on: y } : { off: y, on: x };
    };
    await both(undefined, settings.warmUpSeconds);
    const flatOut = await both();
    const rate = SAME_LOAD_FRACTION * Math.min(flatOut.off.requestsPerSecond, flatOut.on.requestsPerSecond);
    const sameLoad = await both(rate);
    return { flatOut, sameLoad };
  } finally {
    await Promise.all([stopLogbook(off, dirs.off), stopLogbook(on, dirs.on)]);
  }
}

/** One mode's pairs at one concurrency, round after round: ratios within each pair, and the absolute figures. */
interface ModeRounds {
  throughput: number[];
  main: number[];
  process: number[];
  rps: number[];
  rpsOff: number[];
  mainOn: number[];
  mainOff: number[];
}

function summary(connections: number, mode: ObservedMode, rounds: number, list: ModeRounds): ObservabilityCost {
  return {
    connections,
    mode,
    rounds,
    throughputRatio: median(list.throughput),
    mainThreadCpuRatio: median(list.main),
    mainThreadCpuRatioQuartiles: quartiles(list.main),
    processCpuRatio: median(list.process),
    requestsPerSecond: median(list.rps),
    requestsPerSecondOff: median(list.rpsOff),
    mainThreadCpuMicroseconds: median(list.mainOn) * 1e6,
    mainThreadCpuOffMicroseconds: median(list.mainOff) * 1e6,
  };
}

/**
 * The cost of observability, A against B at the same moment (observedPair): "all off" and one
 * observed server (see observedModeTable; tracing samples at the head at --trace-ratio and exports
 * over OTLP/HTTP to a sink here) take the same load at the same time, so whatever this shared
 * machine does meanwhile (it drifts by tens of percent over minutes) falls on both. Pairs
 * rotate through the modes for `--rounds` rounds; a figure is the median over rounds of the
 * ratio within the pair. "All off again" against "all off" is the noise left.
 * The cost is counted on the server's event loop (main thread CPU per request, from /proc, at
 * the same offered load), where every observation runs; throughput flat out and the whole
 * process's CPU are printed beside it. Each result is printed as a JSON line as it is made.
 */
export async function observabilityCost(settings: ObservabilitySettings, root: string): Promise<ObservabilityCost[]> {
  const costs: ObservabilityCost[] = [];
  const sink = await startOtlpSink();
  try {
    for (const connections of settings.connectionCounts.filter((c) => c > 1)) {
      const lists = Object.fromEntries(
        settings.modes.map((mode) => [
          mode,
          { throughput: [], main: [], process: [], rps: [], rpsOff: [], mainOn: [], mainOff: [] } as ModeRounds,
        ]),
      ) as Record<ObservedMode, ModeRounds>;
      for (let round = 0; round < settings.rounds; round++) {
        for (const mode of settings.modes) {
          const { flatOut, sameLoad } = await observedPair(settings, root, mode, connections, round, sink.url);
          const list = lists[mode];
          list.throughput.push(flatOut.on.requestsPerSecond / flatOut.off.requestsPerSecond);
          list.rps.push(flatOut.on.requestsPerSecond);
          list.rpsOff.push(flatOut.off.requestsPerSecond);
          const [a, b] = [sameLoad.off, sameLoad.on];
          list.main.push(b.mainThreadCpu / a.mainThreadCpu);
          list.process.push(b.processCpu / a.processCpu);
          list.mainOn.push(b.mainThreadCpu);
          list.mainOff.push(a.mainThreadCpu);
        }
      }
      for (const mode of settings.modes) {
        const result = summary(connections, mode, settings.rounds, lists[mode]);
        costs.push(result);
        const rounded = Object.fromEntries(
          Object.entries(result).map(([name, value]) => {
            const round = (n: number) => Number(n.toFixed(3));
            return [name, typeof value === "number" ? round(value) : Array.isArray(value) ? value.map(round) : value];
          }),
        );
        console.log(
          JSON.stringify({
            bench: "server",
            figure: "observability-cost",
            ...rounded,
            traceRatio: settings.traceRatio,
            otlpBytes: sink.bytes(),
          }),
        );
      }
    }
  } finally {
    sink.close();
  }
  return costs;
}
