/**
 * Every crash point of small scenarios (issue "Crash simulation"): for each I/O call of creating
 * a log, rotating a segment (with and without a preallocated spare), truncating, a store
 * checkpoint and a manifest swap, cut the power just before that call with each damage variant
 * (all unsynced data lost, all kept, a prefix, sectors torn at 512 B, pages torn at 4 KiB),
 * recover, and check that everything acknowledged before the cut is there and nothing else is.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Breakage, breakStoreOptions } from "../../sim/breakage.js";
import { Log, type LogOptions, Store, type StoreOptions } from "../../src/index.js";
import { CRASH_MODES, type CrashMode, SimulatedDisk } from "../../src/testing/index.js";

const SEED = 4242;
const LOG_DIR = "/data/log";
const STORE_DIR = "/data/store";

interface Scenario {
  name: string;
  /** Brings a fresh disk to the state before the action; everything it does is acknowledged. */
  setup(disk: SimulatedDisk): Promise<unknown>;
  /** The action whose every call is a crash point; reports what it got acknowledged. */
  action(disk: SimulatedDisk, context: unknown, acknowledged: Set<number>): Promise<void>;
  /** Recovers and checks; `acknowledged` holds what the action got acknowledged before the cut. */
  check(disk: SimulatedDisk, acknowledged: Set<number>, where: string): Promise<void>;
}

const payload = (lsn: number) => new TextEncoder().encode(`record-${lsn}`.padEnd(300 + (lsn % 7) * 100, "."));

function logOptions(disk: SimulatedDisk, preallocate: boolean): LogOptions {
  return { segmentBytes: 8192 + 64, batchBytesMax: 4096, preallocate, fileSystem: disk.view(), clock: disk.clock };
}

async function appendAll(log: Log, from: number, to: number, acknowledged?: Set<number>): Promise<void> {
  for (let lsn = from; lsn <= to; lsn++) {
    const got = await log.append(payload(lsn));
    assert.equal(got, lsn);
    acknowledged?.add(lsn);
  }
}

/** The log holds 1..n with every acknowledged one, each intact, and no other record. */
async function checkLog(disk: SimulatedDisk, preallocate: boolean, mustHave: Set<number>, where: string, firstAtMost = 1) {
  const log = await Log.open(LOG_DIR, logOptions(disk, preallocate));
  try {
    assert.ok(log.firstLsn <= firstAtMost, `${where}: log starts at ${log.firstLsn}`);
    let expected = log.firstLsn;
    for await (const record of log.read()) {
      assert.equal(record.lsn, expected++, `${where}: no hole`);
      assert.deepEqual(record.payload, payload(record.lsn), `${where}: record ${record.lsn} intact`);
    }
    for (const lsn of mustHave) {
      if (lsn >= log.firstLsn) assert.ok(lsn <= log.lastLsn, `${where}: acknowledged ${lsn} lost (log ends at ${log.lastLsn})`);
    }
  } finally {
    await log.close();
  }
}

function logScenarios(preallocate: boolean): Scenario[] {
  const tag = preallocate ? "preallocated" : "growing";
  return [
    {
      name: `create a log and append (${tag})`,
      setup: async () => undefined,
      action: async (disk, _context, acknowledged) => {
        const log = await Log.open(LOG_DIR, logOptions(disk, preallocate));
        await appendAll(log, 1, 2, acknowledged).finally(() => log.close().catch(() => undefined));
      },
      check: (disk, acknowledged, where) => checkLog(disk, preallocate, acknowledged, where),
    },
    {
      name: `rotate a segment (${tag})`,
      setup: async (disk) => {
        const log = await Log.open(LOG_DIR, logOptions(disk, preallocate));
        await appendAll(log, 1, 6);
        return log;
      },
      action: async (_disk, context, acknowledged) => {
        const log = context as Log;
        // Enough to fill the first segment and start the next.
        await appendAll(log, 7, 14, acknowledged).finally(() => log.close().catch(() => undefined));
      },
      check: (disk, acknowledged, where) => checkLog(disk, preallocate, new Set([1, 2, 3, 4, 5, 6, ...acknowledged]), where),
    },
    {
      name: `truncate (${tag})`,
      setup: async (disk) => {
        const log = await Log.open(LOG_DIR, logOptions(disk, preallocate));
        await appendAll(log, 1, 60);
        return log;
      },
      action: async (_disk, context) => {
        const log = context as Log;
        await log.truncateBefore(55).finally(() => log.close().catch(() => undefined));
      },
      // Records from 55 on stay whatever happened; those before may or may not.
      check: (disk, _acknowledged, where) =>
        checkLog(disk, preallocate, new Set(Array.from({ length: 6 }, (_, i) => 55 + i)), where, 55),
    },
  ];
}

/** The broken variant the stores of the running test are opened with, if any. */
let storeBreakage: Breakage | undefined;

function storeOptions(disk: SimulatedDisk): StoreOptions {
  return breakStoreOptions(storeOptionsFor(disk), storeBreakage);
}

function storeOptionsFor(disk: SimulatedDisk): StoreOptions {
  return {
    segmentBytes: 8192 + 64,
    batchBytesMax: 4096,
    checkpointEveryBytes: 0,
    valueEncoding: "utf8",
    fileSystem: disk.view(),
    clock: disk.clock,
  };
}

const model = new Map<string, string>();
for (let i = 0; i < 40; i++) model.set(`key-${i % 13}`, `value-${i}`.padEnd(300, "v"));

async function fillStore(db: Store, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) await db.put(`key-${i % 13}`, `value-${i}`.padEnd(300, "v"));
}

async function checkStore(disk: SimulatedDisk, where: string): Promise<void> {
  const db = await Store.open(STORE_DIR, storeOptions(disk));
  try {
    const state = new Map<string, string>();
    for await (const entry of db.scan()) state.set(entry.key as string, entry.value as string);
    assert.deepEqual(state, model, `${where}: the state is every acknowledged write`);
  } finally {
    await db.close();
  }
}

const storeScenarios: Scenario[] = [
  {
    name: "a store checkpoint (data file, manifest, freeing the log)",
    setup: async (disk) => {
      const db = await Store.open(STORE_DIR, storeOptions(disk));
      await fillStore(db, 0, 40);
      return db;
    },
    action: async (_disk, context) => {
      const db = context as Store;
      await db.checkpoint().finally(() => db.close().catch(() => undefined));
    },
    check: (disk, _acknowledged, where) => checkStore(disk, where),
  },
  {
    name: "a manifest swap (second checkpoint replaces the first, old file and log freed)",
    setup: async (disk) => {
      const db = await Store.open(STORE_DIR, storeOptions(disk));
      await fillStore(db, 0, 20);
      await db.checkpoint();
      await fillStore(db, 20, 40);
      return db;
    },
    action: async (_disk, context) => {
      const db = context as Store;
      await db.checkpoint().finally(() => db.close().catch(() => undefined));
    },
    check: (disk, _acknowledged, where) => checkStore(disk, where),
  },
];

/** Calls the action makes when nothing goes wrong. */
async function countCalls(scenario: Scenario): Promise<number> {
  const disk = new SimulatedDisk(SEED);
  const context = await scenario.setup(disk);
  const before = disk.operations;
  await scenario.action(disk, context, new Set());
  return disk.operations - before;
}

async function cutAt(scenario: Scenario, call: number, mode: CrashMode): Promise<void> {
  const disk = new SimulatedDisk(SEED);
  const context = await scenario.setup(disk);
  disk.crashAfter(call, mode);
  const acknowledged = new Set<number>();
  await scenario.action(disk, context, acknowledged).catch(() => undefined);
  for (let turn = 0; turn < 50 && disk.crashPending; turn++) await new Promise((resolve) => setImmediate(resolve));
  if (disk.crashPending) disk.crash(mode);
  await scenario.check(disk, acknowledged, `${scenario.name}: cut before call ${call} (${mode})`);
}

test("every crash point of create, rotate, truncate, checkpoint and manifest swap, with each damage variant", async () => {
  const summary: string[] = [];
  let points = 0;
  for (const scenario of [...logScenarios(false), ...logScenarios(true), ...storeScenarios]) {
    const calls = await countCalls(scenario);
    assert.ok(calls >= 3, `${scenario.name}: ${calls} calls`);
    for (let call = 0; call <= calls; call++) {
      for (const mode of CRASH_MODES) {
        await cutAt(scenario, call, mode);
        points++;
      }
    }
    summary.push(`${scenario.name} ${calls + 1}`);
  }
  console.log(`# crash points: ${points} (calls per scenario, each × ${CRASH_MODES.length} variants: ${summary.join("; ")})`);
});

test("the crash points catch a checkpoint that frees the log before its manifest is durable", async () => {
  const scenario = storeScenarios[1] as Scenario;
  const calls = await countCalls(scenario);
  storeBreakage = "free-log-before-manifest";
  let caught: string | undefined;
  try {
    caught = await firstCaught(scenario, calls);
  } finally {
    storeBreakage = undefined;
  }
  assert.ok(caught !== undefined, "the broken checkpoint went unnoticed");
  console.log(`# crash points: free-log-before-manifest caught at ${caught}`);
});

/** The first cut at which the scenario's check fails, over every call and crash mode. */
async function firstCaught(scenario: Scenario, calls: number): Promise<string | undefined> {
  for (let call = 0; call <= calls; call++) {
    for (const mode of CRASH_MODES) {
      try {
        await cutAt(scenario, call, mode);
      } catch (error) {
        return `call ${call} (${mode}): ${(error as Error).message.slice(0, 120)}`;
      }
    }
  }
  return undefined;
}
