import assert from "node:assert/strict";
import { test } from "node:test";
import { type FileSystem, Log, type LogOptions } from "../../src/index.js";
import { type CrashReport, SimulatedDisk, seededRandom } from "../../src/io/simulated-disk.js";
import { wrapFileSystem } from "../support/wrap-fs.js";

const SEEDS = Number(process.env.LOGBOOK_SIM_SEEDS ?? 600);
const CYCLES = 3;
const DIR = "/data/log";

interface Run {
  seed: number;
  crashes: CrashReport[];
  acknowledged: number;
  recoveredRecords: number;
  tornTails: number;
}

function payloadFor(seed: number, lsn: number, salt: number): Uint8Array {
  return new TextEncoder().encode(`s${seed}-l${lsn}-${salt}`.padEnd(20 + ((lsn * 37 + salt) % 300), "."));
}

type Breakage = "none" | "skip-fdatasync" | "skip-directory-fsync";

/** A deliberately broken disk layer, to show the simulation catches what it claims to. */
function broken(fs: FileSystem, breakage: Breakage): FileSystem {
  if (breakage === "skip-fdatasync") {
    return wrapFileSystem(fs, {
      handle: (inner) => ({ write: (data, position) => inner.write(data, position), datasync: async () => undefined }),
    });
  }
  if (breakage === "skip-directory-fsync") return wrapFileSystem(fs, { syncDirectory: async () => undefined });
  return fs;
}

/** Opens, checks every acknowledged record, runs a random workload, cuts the power; three times. */
async function runSeed(seed: number, breakage: Breakage = "none"): Promise<Run> {
  const disk = new SimulatedDisk(seed);
  const random = seededRandom(seed ^ 0x5eed);
  const options: LogOptions = {
    segmentBytes: 8192 + 64,
    batchBytesMax: 4096,
    preallocate: random() < 0.5,
    sync: "always",
  };
  const expected = new Map<number, string>();
  const acknowledged = new Set<number>();
  const run: Run = { seed, crashes: [], acknowledged: 0, recoveredRecords: 0, tornTails: 0 };
  for (let cycle = 0; cycle <= CYCLES; cycle++) {
    const log = await Log.open(DIR, { ...options, fileSystem: broken(disk.view(), breakage) });
    if (log.recovery.tornTail) run.tornTails++;
    // Every acknowledged record is there, intact; what is there is a prefix, never a stranger.
    let lsn = log.firstLsn;
    for await (const record of log.read()) {
      assert.equal(record.lsn, lsn++, `seed ${seed}: no hole`);
      const want = expected.get(record.lsn);
      assert.ok(want !== undefined, `seed ${seed}: LSN ${record.lsn} was never appended`);
      assert.equal(new TextDecoder().decode(record.payload), want, `seed ${seed}: record ${record.lsn} intact`);
    }
    for (const acked of acknowledged) {
      if (acked >= log.firstLsn) assert.ok(acked <= log.lastLsn, `seed ${seed}, cycle ${cycle}: acknowledged LSN ${acked} lost`);
    }
    run.recoveredRecords = log.lastLsn;
    if (cycle === CYCLES) {
      await log.close();
      break;
    }
    // The power goes out at a seed-chosen I/O call of this cycle: mid-write, mid-rotation,
    // between a write and its fdatasync, during truncation.
    disk.crashAfter(1 + Math.floor(random() * 60));
    const steps = 1 + Math.floor(random() * 25);
    for (let step = 0; step < steps; step++) {
      const count = 1 + Math.floor(random() * 4);
      for (let i = 0; i < count; i++) {
        const batch = random() < 0.2 ? 3 : 1;
        const salt = Math.floor(random() * 1e9);
        const next = log.lastLsn + 1;
        const payloads = Array.from({ length: batch }, (_, k) => payloadFor(seed, next + k, salt));
        let sequenced: ReturnType<Log["sequence"]>;
        try {
          sequenced = log.sequence(payloads);
        } catch {
          break;
        }
        payloads.forEach((payload, k) => expected.set(sequenced.firstLsn + k, new TextDecoder().decode(payload)));
        sequenced.committed.then(
          (first) => {
            for (let k = 0; k < batch; k++) acknowledged.add(first + k);
          },
          () => undefined,
        );
      }
      if (random() < 0.1 && log.durableLsn > 1) {
        await log.truncateBefore(1 + Math.floor(random() * log.durableLsn)).catch(() => undefined);
      }
      const turns = Math.floor(random() * 4);
      for (let t = 0; t < turns; t++) await new Promise((resolve) => setImmediate(resolve));
    }
    if (disk.crashPending) {
      for (let t = 0; t < 20 && disk.crashPending; t++) await new Promise((resolve) => setImmediate(resolve));
    }
    if (disk.crashPending) run.crashes.push(disk.crash());
    else run.crashes.push(disk.scheduledCrashes.at(-1) as CrashReport);
    // The log from before the cut sees only EIO now; let it stop.
    await log.close().catch(() => undefined);
  }
  run.acknowledged = acknowledged.size;
  return run;
}

test(`power cuts on a simulated disk: ${SEEDS} seeds × ${CYCLES} cuts lose no acknowledged record`, async () => {
  let cuts = 0;
  let sectorsLost = 0;
  let sectorsKept = 0;
  let namesLost = 0;
  let acknowledged = 0;
  let torn = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const run = await runSeed(seed);
    cuts += run.crashes.length;
    acknowledged += run.acknowledged;
    torn += run.tornTails;
    for (const crash of run.crashes) {
      sectorsLost += crash.sectorsLost;
      sectorsKept += crash.sectorsKept;
      namesLost += crash.namesLost;
    }
  }
  console.log(
    `# sim: ${cuts} power cuts over ${SEEDS} seeds, ${acknowledged} acknowledged records checked, ` +
      `${sectorsLost} dirty sectors lost and ${sectorsKept} kept, ${namesLost} unsynced names lost, ${torn} torn tails cut`,
  );
  assert.ok(sectorsLost > 0 && sectorsKept > 0, "the cuts tore writes both ways");
});

for (const breakage of ["skip-fdatasync", "skip-directory-fsync"] as const) {
  test(`the simulation catches a disk layer that does ${breakage}`, async () => {
    let caughtAtSeed: number | undefined;
    for (let seed = 1; seed <= SEEDS && caughtAtSeed === undefined; seed++) {
      try {
        await runSeed(seed, breakage);
      } catch (error) {
        assert.ok(
          error instanceof assert.AssertionError || (error as { code?: string }).code === "LOGBOOK_CORRUPTION",
          String(error),
        );
        caughtAtSeed = seed;
      }
    }
    assert.ok(caughtAtSeed !== undefined, `${breakage} went unnoticed through ${SEEDS} seeds`);
    console.log(`# sim: ${breakage} caught at seed ${caughtAtSeed}`);
  });
}
