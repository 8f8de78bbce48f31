/**
 * `npm run sim -- --seed N --steps M`: one seeded simulation of the log and the store on the
 * simulated disk (power cuts, failing calls, latent damage), checked after every recovery.
 * A failure prints its seed, the shortest reproduction found, and exits 1; `--trace` replays a
 * seed call by call. The same flags give the same run.
 */
import { parseArgs } from "node:util";
import type { SyncMode } from "../src/index.js";
import { BREAKAGES, type Breakage } from "./breakage.js";
import { addCounts, emptyCounts, formatCounts } from "./checks.js";
import { type RunSpec, reproduction, runSeed, shrink, type Target } from "./run.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    steps: { type: "string", default: "25" },
    cycles: { type: "string", default: "6" },
    target: { type: "string", default: "both" },
    "no-faults": { type: "boolean", default: false },
    "no-latent": { type: "boolean", default: false },
    "no-faulty-opens": { type: "boolean", default: false },
    sync: { type: "string", default: "always" },
    break: { type: "string" },
    trace: { type: "boolean", default: false },
    // Stream operations are on by default; --streams is kept so that older reproductions still run.
    streams: { type: "boolean", default: false },
    "no-streams": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  process.stdout.write(
    "usage: npm run sim -- [--seed N] [--steps M] [--cycles C] [--target log|store|both]\n" +
      "                      [--no-faults] [--no-latent] [--no-faulty-opens] [--sync always|interval|none]\n" +
      "                      [--break VARIANT] [--no-streams] [--trace]\n" +
      `variants: ${BREAKAGES.join(", ")}\n`,
  );
  process.exit(0);
}

function positive(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    process.stderr.write(`--${name} must be a positive integer, got ${String(text)}\n`);
    process.exit(2);
  }
  return value;
}

const targets: Target[] = values.target === "both" ? ["log", "store"] : [values.target as Target];
if (!targets.every((t) => t === "log" || t === "store")) {
  process.stderr.write(`--target must be log, store or both, got ${values.target}\n`);
  process.exit(2);
}
if (!["always", "interval", "none"].includes(values.sync)) {
  process.stderr.write(`--sync must be always, interval or none, got ${values.sync}\n`);
  process.exit(2);
}
if (values.break !== undefined && !BREAKAGES.includes(values.break as Breakage)) {
  process.stderr.write(`--break must be one of ${BREAKAGES.join(", ")}\n`);
  process.exit(2);
}

const total = emptyCounts(0);
for (const target of targets) {
  const spec: RunSpec = {
    target,
    seed: positive("seed", values.seed),
    steps: positive("steps", values.steps),
    cycles: positive("cycles", values.cycles),
    faults: !values["no-faults"],
    latent: !values["no-latent"],
    faultyOpens: !values["no-faulty-opens"],
    sync: values.sync as SyncMode,
    ...(values.break === undefined ? {} : { breakage: values.break as Breakage }),
    ...(values["no-streams"] ? { streams: false } : {}),
    ...(values.trace ? { trace: (event: string) => process.stdout.write(`  ${event}\n`) } : {}),
  };
  try {
    addCounts(total, await runSeed(spec));
  } catch (error) {
    process.stdout.write(`FAILED (${target}, seed ${spec.seed}): ${(error as Error).message}\n`);
    const shortest = await shrink({ ...spec, trace: undefined });
    process.stdout.write(`shortest reproduction: ${reproduction(shortest)} --trace\n`);
    process.exit(1);
  }
}
process.stdout.write(`ok: ${formatCounts(total)}\n`);
