/**
 * One seeded run of the store on the simulated disk: cycles of open → check → puts, deletes,
 * batches, stream operations and checkpoints under faults → a power cut (or a plain close) at a
 * seed-chosen I/O call. Writes are sequenced synchronously in call order, so a key-value write's
 * LSN is the log's last LSN right after the call (stream operations take LSNs between them).
 * After every recovery:
 * 1. the recovered LSN covers every acknowledged write;
 * 2. the state is exactly the fold of the writes up to that LSN: no hole, no half batch, no
 *    write that was never issued;
 * 3. after latent damage, an open either passes 1 and 2 or refuses with a typed error;
 * 4. nothing is acknowledged after the store's log failed, and every error is typed;
 * 5. acknowledged stream operations (adds, group reads, acks, trims) survive (stream-workload.ts).
 */
import { isLogbookError, Store, type StoreOptions, type SyncMode } from "../src/index.js";
import { type CrashMode, DISK_FAULTS, SimulatedDisk, seededRandom } from "../src/testing/index.js";
import { type Breakage, breakFileSystem, breakStoreOptions } from "./breakage.js";
import { check, Deferred, emptyCounts, type SimCounts, SimulationFailure, typed } from "./checks.js";
import { endCycle, injectLatent, tally, turn } from "./cycle.js";
import { StreamWorkload } from "./stream-workload.js";

const DIR = "/data/store";

export interface StoreSimulationOptions {
  steps: number;
  cycles: number;
  faults: boolean;
  latent: boolean;
  /** After each cut, also open under a storm of faults: a typed error, or the truth. */
  faultyOpens?: boolean;
  /** Interleave stream operations (default: on). */
  streams?: boolean;
  breakage?: Breakage;
  crashMode?: CrashMode;
  /** The log's sync mode (default `always`); under `interval` and `none` check 1 covers what was durable. */
  sync?: SyncMode;
  trace?: (event: string) => void;
}

type Op =
  | { type: "put"; key: string; value: string }
  | { type: "delete"; key: string }
  | { type: "batch"; keys: string[]; value: string };

function applyOp(state: Map<string, string>, op: Op): void {
  if (op.type === "put") state.set(op.key, op.value);
  else if (op.type === "delete") state.delete(op.key);
  else for (const key of op.keys) state.set(key, op.value);
}

function sameState(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

/** Checks 1 and 2; returns the recovered state. A typed error while reading is passed on. */
async function verifyStore(
  db: Store,
  seed: number,
  where: string,
  base: Map<string, string>,
  ops: Map<number, Op>,
  highestAcked: number,
  counts: SimCounts,
): Promise<Map<string, string>> {
  const recoveredLsn = db.stats().appliedLsn;
  check(recoveredLsn >= highestAcked, seed, `${where}: acknowledged LSN ${highestAcked} lost (recovered ${recoveredLsn})`);
  const expected = new Map(base);
  for (let lsn = 1; lsn <= recoveredLsn; lsn++) {
    const op = ops.get(lsn);
    if (op !== undefined) applyOp(expected, op);
  }
  const recovered = new Map<string, string>();
  for await (const entry of db.scan()) recovered.set(entry.key as string, entry.value as string);
  check(sameState(recovered, expected), seed, `${where}: state is not the fold of the writes up to LSN ${recoveredLsn}`);
  counts.recordsChecked += recovered.size;
  return expected;
}

export async function simulateStore(seed: number, options: StoreSimulationOptions): Promise<SimCounts> {
  const disk = new SimulatedDisk(seed);
  disk.trace = options.trace;
  const random = seededRandom(seed ^ 0x570e);
  const counts = emptyCounts();
  const sync = options.sync ?? "always";
  /** The highest write acknowledged (written) under sync `interval`/`none`, not yet known durable. */
  let highestWritten = 0;
  const storeOptions: StoreOptions = {
    segmentBytes: 8192 + 64,
    batchBytesMax: 4096,
    checkpointEveryBytes: 0,
    valueEncoding: "json",
    sync,
    // Virtual milliseconds: an fdatasync takes 0.2, other calls 0.005, so several writes may wait.
    syncIntervalMs: 1 + (seed % 8),
    clock: disk.clock,
  };
  const open = () =>
    Store.open(
      DIR,
      breakStoreOptions({ ...storeOptions, fileSystem: breakFileSystem(disk.view(), options.breakage) }, options.breakage),
    );
  let state = new Map<string, string>();
  const ops = new Map<number, Op>();
  let highestAcked = 0;
  const deferred = new Deferred();
  const streams = new StreamWorkload(seed, random, counts, deferred);
  const streamsOn = options.streams ?? true;
  for (let cycle = 0; cycle <= options.cycles; cycle++) {
    const where = `cycle ${cycle}`;
    disk.injectFaults(0);
    let db: Store;
    try {
      db = await open();
    } catch (error) {
      // Latent damage may leave nothing to recover from; refusing, typed, is what check 3 allows.
      if (disk.latentDamage.length > 0 && isLogbookError(error)) {
        counts.refusedAsCorrupt++;
        break;
      }
      throw new SimulationFailure(seed, `${where}: open failed: ${String(error)}`, error);
    }
    const expected = await verifyStore(db, seed, where, state, ops, highestAcked, counts);
    // What survived is the new base; sequenced writes beyond it were lost and their LSNs come again.
    state = expected;
    ops.clear();
    if (!(await streams.verify(db, where, disk.latentDamage.length > 0))) {
      counts.refusedAsCorrupt++;
      await db.close();
      break;
    }
    if (cycle === options.cycles) {
      await db.close();
      break;
    }
    await streams.start(db, where);
    if (options.faults) disk.injectFaults(0.002 + random() * 0.02, DISK_FAULTS);
    if (options.latent && (!options.faults || random() < 0.25)) injectLatent(disk, random);
    const cut = random() < 0.85;
    if (cut) disk.crashAfter(1 + Math.floor(random() * 150));
    for (let step = 0; step < options.steps; step++) {
      // Writes are sequenced when called: the log's last LSN right after one is its LSN.
      const next = db.logStats.lastLsn + 1;
      const key = `k${Math.floor(random() * 6)}`;
      // Values of a few hundred bytes, so that segments fill, rotate and get freed by checkpoints.
      // Under sync `interval`/`none`, sized by LSN alone: a later generation's writes then land at
      // the offsets of an earlier one's, where frames a power cut kept past the end would be read.
      const drawn = Math.floor(random() * 400);
      const value = `${seed}:${cycle}:${step}:`.padEnd(100 + (sync === "always" ? drawn : (next * 37) % 400), "v");
      if (streamsOn && random() < 0.3) {
        streams.issue(db, where, `${cycle}.${step}`, sync === "always" ? drawn % 300 : (next * 37) % 300);
        const turns = Math.floor(random() * 3);
        for (let t = 0; t < turns; t++) await turn();
        continue;
      }
      const kind = random();
      const op: Op =
        kind < 0.6
          ? { type: "put", key, value }
          : kind < 0.8
            ? { type: "delete", key }
            : { type: "batch", keys: [key, `k${Math.floor(random() * 6)}`, "batch"], value };
      let promise: Promise<number>;
      try {
        promise =
          op.type === "put"
            ? db.put(op.key, op.value)
            : op.type === "delete"
              ? db.delete(op.key)
              : db.batch(op.keys.map((k) => ({ type: "put" as const, key: k, value: op.value })));
      } catch (error) {
        typed(error, seed, `${where}: write`);
        break;
      }
      const lsn = next;
      // A write refused before it was sequenced takes no LSN; the store fails stop after that.
      if (db.logStats.lastLsn === lsn) ops.set(lsn, op);
      promise.then(
        (version) =>
          deferred.run(() => {
            check(version === lsn, seed, `${where}: writes are sequenced in call order (${version} ≠ ${lsn})`);
            check(db.failure === undefined, seed, `${where}: LSN ${lsn} acknowledged after the store failed`);
            counts.acknowledged++;
            if (sync === "always") highestAcked = Math.max(highestAcked, lsn);
            else highestWritten = Math.max(highestWritten, lsn);
          }),
        (error: unknown) =>
          deferred.run(() => {
            typed(error, seed, `${where}: write`);
            counts.rejected++;
          }),
      );
      if (random() < 0.1) {
        await db.checkpoint().then(
          () => counts.checkpoints++,
          (error: unknown) => typed(error, seed, `${where}: checkpoint`),
        );
      }
      const turns = Math.floor(random() * 3);
      for (let t = 0; t < turns; t++) await turn();
    }
    await endCycle({
      disk,
      cut,
      crashMode: options.crashMode,
      opened: db,
      reopen: options.faultyOpens ? open : undefined,
      random,
      counts,
      seed,
      where,
    });
    // What the log had made durable by the cut (or the close) must survive it.
    highestAcked = Math.max(highestAcked, Math.min(highestWritten, db.logStats.durableLsn));
    highestWritten = 0;
    streams.settle(sync, db.logStats.durableLsn);
    deferred.throwAny();
  }
  return tally(disk, counts);
}
