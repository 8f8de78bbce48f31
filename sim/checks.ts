/** What the simulator counts, and how a broken invariant is reported: with its seed. */
import { isLogbookError } from "../src/index.js";
import { type DiskFault, noFaults } from "../src/testing/index.js";

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    message: string,
    cause?: unknown,
  ) {
    super(`seed ${seed}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = "SimulationFailure";
  }
}

export function check(condition: boolean, seed: number, message: string): asserts condition {
  if (!condition) throw new SimulationFailure(seed, message);
}

/** Every error a caller sees must be a typed LogbookError with a stable code. */
export function typed(error: unknown, seed: number, where: string): void {
  if (!isLogbookError(error)) throw new SimulationFailure(seed, `${where}: untyped error ${String(error)}`, error);
}

/**
 * Checks made in promise callbacks (an acknowledgement, a rejection) would otherwise throw
 * into nowhere: they are kept here and thrown at the end of the cycle, with their seed.
 */
export class Deferred {
  private first: unknown;

  run(check: () => void): void {
    try {
      check();
    } catch (error) {
      this.first ??= error;
    }
  }

  throwAny(): void {
    if (this.first !== undefined) throw this.first;
  }
}

export interface SimCounts {
  runs: number;
  crashes: number;
  closes: number;
  operations: number;
  acknowledged: number;
  rejected: number;
  /** Stream operations acknowledged, and stream facts checked after recoveries (stream-workload.ts). */
  streamOps: number;
  streamChecks: number;
  recordsChecked: number;
  tornTails: number;
  sectorsLost: number;
  sectorsKept: number;
  namesLost: number;
  checkpoints: number;
  /** Opens refused with LOGBOOK_CORRUPTION after latent damage (check 3's allowed outcome). */
  refusedAsCorrupt: number;
  faults: Record<DiskFault, number>;
}

/** Counts of one run (`runs` 1), or an empty total to add runs to (`runs` 0). */
export function emptyCounts(runs = 1): SimCounts {
  return {
    runs,
    crashes: 0,
    closes: 0,
    operations: 0,
    acknowledged: 0,
    rejected: 0,
    streamOps: 0,
    streamChecks: 0,
    recordsChecked: 0,
    tornTails: 0,
    sectorsLost: 0,
    sectorsKept: 0,
    namesLost: 0,
    checkpoints: 0,
    refusedAsCorrupt: 0,
    faults: noFaults(),
  };
}

export function addCounts(total: SimCounts, run: SimCounts): SimCounts {
  for (const key of Object.keys(total) as (keyof SimCounts)[]) {
    if (key === "faults") for (const kind of Object.keys(run.faults) as DiskFault[]) total.faults[kind] += run.faults[kind];
    else total[key] += run[key];
  }
  return total;
}

export function formatCounts(counts: SimCounts): string {
  const faults = Object.entries(counts.faults)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(", ");
  const total = Object.values(counts.faults).reduce((a, b) => a + b, 0);
  return (
    `${counts.runs} runs, ${counts.crashes} power cuts and ${counts.closes} closes, ${counts.operations} disk operations; ` +
    `${counts.acknowledged} acknowledged writes, ${counts.recordsChecked} records checked after recovery, ` +
    `${counts.streamOps} acknowledged stream operations, ${counts.streamChecks} stream facts checked, ` +
    `${counts.tornTails} torn tails cut, ${counts.sectorsLost} dirty sectors lost and ${counts.sectorsKept} kept, ` +
    `${counts.namesLost} unsynced names lost, ${counts.checkpoints} checkpoints; ` +
    `${total} faults injected (${faults}); ${counts.refusedAsCorrupt} opens refused as corrupt after latent damage`
  );
}
