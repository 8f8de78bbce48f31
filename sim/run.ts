/** Runs one seed against a target, and shrinks a failing run to its shortest reproduction. */

import type { SyncMode } from "../src/index.js";
import type { Breakage } from "./breakage.js";
import type { SimCounts } from "./checks.js";
import { simulateLog } from "./log-simulation.js";
import { simulateStore } from "./store-simulation.js";

export type Target = "log" | "store";

export interface RunSpec {
  target: Target;
  seed: number;
  steps: number;
  cycles: number;
  faults: boolean;
  latent: boolean;
  faultyOpens?: boolean;
  /** Store only: stream operations interleaved with the key-value writes (default: on). */
  streams?: boolean;
  /** The log's sync mode (default `always`); under `interval` and `none` only what was durable must survive a cut. */
  sync?: SyncMode;
  breakage?: Breakage;
  trace?: (event: string) => void;
}

export function runSeed(spec: RunSpec): Promise<SimCounts> {
  const { target, seed, ...options } = spec;
  return target === "log" ? simulateLog(seed, options) : simulateStore(seed, options);
}

/** The fewest cycles, then the fewest steps, with which the seed still fails. */
export async function shrink(spec: RunSpec): Promise<RunSpec> {
  const fails = async (candidate: RunSpec) =>
    runSeed(candidate).then(
      () => false,
      () => true,
    );
  let best = spec;
  for (let cycles = 1; cycles < best.cycles; cycles++) {
    if (await fails({ ...best, cycles })) {
      best = { ...best, cycles };
      break;
    }
  }
  for (let steps = 1; steps < best.steps; steps++) {
    if (await fails({ ...best, steps })) {
      best = { ...best, steps };
      break;
    }
  }
  return best;
}

export function reproduction(spec: RunSpec): string {
  const flags = [
    `--target ${spec.target}`,
    `--seed ${spec.seed}`,
    `--steps ${spec.steps}`,
    `--cycles ${spec.cycles}`,
    spec.faults ? "" : "--no-faults",
    spec.latent ? "" : "--no-latent",
    spec.faultyOpens === true ? "" : "--no-faulty-opens",
    spec.sync === undefined || spec.sync === "always" ? "" : `--sync ${spec.sync}`,
    spec.breakage === undefined ? "" : `--break ${spec.breakage}`,
    spec.streams === false ? "--no-streams" : "",
  ];
  return `npm run sim -- ${flags.filter(Boolean).join(" ")}`;
}
