/** What the log and store simulations share: the end of a cycle, fault storms, the tally. */
import { type CrashMode, DISK_FAULTS, type DiskFault, LATENT_FAULTS, type SimulatedDisk } from "../src/testing/index.js";
import { type SimCounts, SimulationFailure, typed } from "./checks.js";

export const turn = () => new Promise((resolve) => setImmediate(resolve));

interface Closable {
  close(): Promise<void>;
}

export interface CycleEnd {
  disk: SimulatedDisk;
  /** Whether this cycle ends in a power cut (scheduled with `crashAfter`) or a clean close. */
  cut: boolean;
  crashMode: CrashMode | undefined;
  /** The log or store of this cycle. */
  opened: Closable;
  /** Opens another on the same disk, for the fault storm (undefined: no storm). */
  reopen: (() => Promise<Closable>) | undefined;
  random: () => number;
  counts: SimCounts;
  seed: number;
  where: string;
}

/**
 * Ends a cycle: the scheduled power cut (or one now, if the work never reached its call), or a
 * clean close that leaves the page cache as faults left it; then three opens under a storm of
 * failing calls, each of which must fail typed or recover (the next clean open checks).
 */
export async function endCycle({ disk, cut, crashMode, opened, reopen, random, counts, seed, where }: CycleEnd): Promise<void> {
  for (let t = 0; t < 20 && disk.crashPending; t++) await turn();
  disk.injectFaults(0);
  if (cut) {
    const report = disk.crashPending ? disk.crash(crashMode) : disk.scheduledCrashes.at(-1);
    if (report === undefined) throw new SimulationFailure(seed, `${where}: no crash report`);
    counts.crashes++;
    counts.sectorsLost += report.sectorsLost;
    counts.sectorsKept += report.sectorsKept;
    counts.namesLost += report.namesLost;
    // What was open before the cut sees only EIO now; let it stop.
    await opened.close().catch(() => undefined);
  } else {
    await opened.close().catch((error: unknown) => typed(error, seed, `${where}: close`));
    counts.closes++;
  }
  for (let attempt = 0; reopen !== undefined && attempt < 3; attempt++) {
    disk.injectFaults(0.05 + random() * 0.3, DISK_FAULTS);
    await openUnderFaults(reopen, seed, where);
    disk.injectFaults(0);
  }
}

/** Adds what the disk injected and ran to the run's counts. */
export function tally(disk: SimulatedDisk, counts: SimCounts): SimCounts {
  for (const kind of [...DISK_FAULTS, ...LATENT_FAULTS] as DiskFault[]) counts.faults[kind] += disk.faultsInjected[kind];
  counts.operations += disk.operations;
  return counts;
}

/** Silent damage for this cycle, one kind at a time: flips (any call), misdirected or lost writes (fdatasyncs). */
export function injectLatent(disk: SimulatedDisk, random: () => number): void {
  const draw = random();
  if (draw < 0.4) disk.injectFaults(0.01 + random() * 0.04, ["bit-flip"]);
  else if (draw < 0.7) disk.injectFaults(0.1 + random() * 0.3, ["misdirected-write"]);
  else disk.injectFaults(0.1 + random() * 0.3, ["lost-write"]);
}

/** An open while calls fail: it must succeed or fail typed, and a close must too. */
export async function openUnderFaults(open: () => Promise<Closable>, seed: number, where: string): Promise<void> {
  try {
    const opened = await open();
    await opened.close().catch((error: unknown) => typed(error, seed, `${where}: close under faults`));
  } catch (error) {
    typed(error, seed, `${where}: open under faults`);
  }
}
