/**
 * One seeded run of the log on the simulated disk: cycles of open → check → concurrent
 * appends, batches, reads and truncations under faults → a power cut (or a plain close) at a
 * seed-chosen I/O call. After every recovery it checks (issue "Crash simulation"):
 * 1. every record acknowledged under sync `always` is present and intact;
 * 2. the log is a gap-free prefix of what was sequenced: no hole, no stranger;
 * 3. damage is never returned as data: reads give the bytes written or a typed error, and
 *    after latent damage (a flipped bit, a misdirected write) an open either passes 1 and 2
 *    or refuses with LOGBOOK_CORRUPTION;
 * 4. nothing is acknowledged after the log failed (fail-stop), and every error is typed.
 * Under sync `interval` or `none` a write is acknowledged once written, so check 1 holds for
 * what was durable when the cycle ended; check 2 still holds in full, generation after
 * generation: a record a power cut lost never comes back once its LSN was handed out again.
 * The same seed gives the same run: the disk, the workload and time all come from it.
 */
import { isLogbookError, Log, type LogOptions, type SyncMode } from "../src/index.js";
import { type CrashMode, DISK_FAULTS, SimulatedDisk, seededRandom } from "../src/testing/index.js";
import { type Breakage, breakFileSystem, breakLogOptions } from "./breakage.js";
import { check, Deferred, emptyCounts, type SimCounts, SimulationFailure, typed } from "./checks.js";
import { endCycle, injectLatent, tally, turn } from "./cycle.js";

const DIR = "/data/log";

export interface LogSimulationOptions {
  /** Groups of appends per cycle. */
  steps: number;
  /** Power cuts (or closes) and recoveries. */
  cycles: number;
  /** Inject failing calls: fdatasync/write/read EIO, ENOSPC after a short write. */
  faults: boolean;
  /** Inject silent damage: flipped bits, misdirected writes. */
  latent: boolean;
  /** After each cut, also open under a storm of faults: a typed error, or the truth. */
  faultyOpens?: boolean;
  /** A deliberately broken variant, to show the checks catch it. */
  breakage?: Breakage;
  /** Every cut uses this damage variant (default: the seed picks). */
  crashMode?: CrashMode;
  /** The log's sync mode (default `always`). */
  sync?: SyncMode;
  trace?: (event: string) => void;
}

/**
 * A payload whose bytes name its seed, LSN and salt. With `sizeByLsn` its size depends on the
 * LSN alone, so a later generation writes the same LSN at the same offsets as an earlier one
 * whose frames a power cut kept past the recovered end: where such frames would be read again.
 */
function payloadFor(seed: number, lsn: number, salt: number, sizeByLsn = false): Uint8Array {
  const size = 20 + ((lsn * 37 + (sizeByLsn ? 0 : salt)) % 300);
  return new TextEncoder().encode(`s${seed}-l${lsn}-${salt}`.padEnd(size, "."));
}

export async function simulateLog(seed: number, options: LogSimulationOptions): Promise<SimCounts> {
  const disk = new SimulatedDisk(seed);
  disk.trace = options.trace;
  const random = seededRandom(seed ^ 0x5eed);
  const counts = emptyCounts();
  const sync = options.sync ?? "always";
  /** Acknowledged (written) under sync `interval`/`none`: checked as acknowledged once known durable. */
  const writtenAcknowledged = new Set<number>();
  /** The cycle before ended in a clean close, with no storm of faulty opens after it. */
  let closedCleanly = false;
  const logOptions: LogOptions = {
    segmentBytes: 8192 + 64,
    batchBytesMax: 4096,
    preallocate: random() < 0.5,
    sync,
    // Virtual milliseconds: an fdatasync takes 0.2, other calls 0.005, so several frames may wait.
    syncIntervalMs: 1 + (seed % 8),
    clock: disk.clock,
    ...breakLogOptions(options.breakage),
  };
  const open = () => Log.open(DIR, { ...logOptions, fileSystem: breakFileSystem(disk.view(), options.breakage) });
  const written = new Map<number, string>();
  const acknowledged = new Set<number>();
  const deferred = new Deferred();
  for (let cycle = 0; cycle <= options.cycles; cycle++) {
    const where = `seed ${seed}, cycle ${cycle}`;
    disk.injectFaults(0);
    let log: Log;
    try {
      log = await open();
    } catch (error) {
      // Latent damage may make the log unopenable; that is the typed refusal check 3 allows.
      if (disk.latentDamage.length > 0 && isLogbookError(error, "LOGBOOK_CORRUPTION")) {
        counts.refusedAsCorrupt++;
        break;
      }
      throw new SimulationFailure(seed, `${where}: open failed: ${String(error)}`, error);
    }
    if (log.recovery.tornTail) counts.tornTails++;
    // A clean close leaves nothing torn: without faults, an open after one reports no torn tail
    // and sets nothing aside (frames of a recycled segment's earlier use are not its own).
    if (closedCleanly && !options.faults && disk.latentDamage.length === 0) {
      const { tornTail, setAside } = log.recovery;
      check(tornTail === undefined, seed, `${where}: a torn tail reported after a clean close (${tornTail?.reason})`);
      check(setAside.length === 0, seed, `${where}: ${setAside.join(", ")} set aside after a clean close`);
    }
    try {
      await verifyLog(log, seed, written, acknowledged, where, counts);
    } catch (error) {
      await log.close().catch(() => undefined);
      if (disk.latentDamage.length > 0 && isLogbookError(error, "LOGBOOK_CORRUPTION")) {
        counts.refusedAsCorrupt++;
        break;
      }
      throw error;
    }
    // What did not survive is forgotten: its LSNs will be handed out again.
    for (const lsn of [...written.keys()]) if (lsn > log.lastLsn) written.delete(lsn);
    if (cycle === options.cycles) {
      await log.close();
      break;
    }
    if (options.faults) disk.injectFaults(0.002 + random() * 0.02, DISK_FAULTS);
    if (options.latent && (!options.faults || random() < 0.25)) injectLatent(disk, random);
    const cut = random() < 0.85;
    closedCleanly = !cut && !options.faultyOpens;
    if (cut) disk.crashAfter(1 + Math.floor(random() * 60));
    for (let step = 0; step < options.steps && !log.isClosed; step++) {
      const groups = 1 + Math.floor(random() * 4);
      for (let i = 0; i < groups; i++) {
        const batch = random() < 0.2 ? 3 : 1;
        const salt = Math.floor(random() * 1e9);
        const next = log.lastLsn + 1;
        const payloads = Array.from({ length: batch }, (_, k) => payloadFor(seed, next + k, salt, sync !== "always"));
        // appendBatch sequences the group before it returns: its LSNs are next, next + 1, ...
        const committed = log.appendBatch(payloads);
        if (log.lastLsn < next) {
          // Nothing was sequenced: the log refused the group, typed.
          committed.catch((error: unknown) => deferred.run(() => typed(error, seed, `${where}: sequence`)));
          break;
        }
        payloads.forEach((payload, k) => written.set(next + k, new TextDecoder().decode(payload)));
        committed.then(
          ([first = next]) =>
            deferred.run(() => {
              // Fail-stop: once the log has failed, nothing more may be acknowledged.
              check(log.failure === undefined, seed, `${where}: LSN ${first} acknowledged after the log failed`);
              for (let k = 0; k < batch; k++) (sync === "always" ? acknowledged : writtenAcknowledged).add(first + k);
              counts.acknowledged += batch;
            }),
          (error: unknown) =>
            deferred.run(() => {
              typed(error, seed, `${where}: append`);
              counts.rejected += batch;
            }),
        );
      }
      if (random() < 0.08 && log.durableLsn > 1) {
        await log
          .truncateBefore(1 + Math.floor(random() * log.durableLsn))
          .catch((error) => typed(error, seed, `${where}: truncate`));
      }
      if (random() < 0.1 && acknowledged.size > 0) await readOne(log, seed, written, random, where);
      if (sync !== "always" && random() < 0.05) await log.sync().catch((error) => typed(error, seed, `${where}: sync`));
      const turns = Math.floor(random() * 4);
      for (let t = 0; t < turns; t++) await turn();
    }
    await endCycle({
      disk,
      cut,
      crashMode: options.crashMode,
      opened: log,
      reopen: options.faultyOpens ? open : undefined,
      random,
      counts,
      seed,
      where,
    });
    // What the log had made durable by the cut (or the close) must survive it.
    for (const lsn of writtenAcknowledged) if (lsn <= log.durableLsn) acknowledged.add(lsn);
    writtenAcknowledged.clear();
    deferred.throwAny();
  }
  return tally(disk, counts);
}

/** Checks 1 and 2: every acknowledged record there and intact, the rest a gap-free prefix of what was written. */
async function verifyLog(
  log: Log,
  seed: number,
  written: Map<number, string>,
  acknowledged: Set<number>,
  where: string,
  counts: SimCounts,
): Promise<void> {
  let lsn = log.firstLsn;
  for await (const record of log.read()) {
    check(record.lsn === lsn, seed, `${where}: hole before LSN ${record.lsn} (expected ${lsn})`);
    lsn++;
    const want = written.get(record.lsn);
    check(want !== undefined, seed, `${where}: LSN ${record.lsn} was never appended`);
    check(new TextDecoder().decode(record.payload) === want, seed, `${where}: record ${record.lsn} is not what was written`);
    counts.recordsChecked++;
  }
  for (const acked of acknowledged) {
    if (acked >= log.firstLsn)
      check(acked <= log.lastLsn, seed, `${where}: acknowledged LSN ${acked} lost (log ends at ${log.lastLsn})`);
  }
}

/** Check 3 on a live log: a read returns the bytes written or a typed error. */
async function readOne(log: Log, seed: number, written: Map<number, string>, random: () => number, where: string): Promise<void> {
  const from = log.firstLsn + Math.floor(random() * Math.max(1, log.durableLsn - log.firstLsn + 1));
  try {
    for await (const record of log.read({ from })) {
      check(
        new TextDecoder().decode(record.payload) === written.get(record.lsn),
        seed,
        `${where}: read of LSN ${record.lsn} returned other bytes`,
      );
      break;
    }
  } catch (error) {
    typed(error, seed, `${where}: read`);
  }
}
