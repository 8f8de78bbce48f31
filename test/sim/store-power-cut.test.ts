import assert from "node:assert/strict";
import { test } from "node:test";
import { Store, type StoreOptions } from "../../src/index.js";
import { SimulatedDisk, seededRandom } from "../../src/io/simulated-disk.js";

const SEEDS = Number(process.env.LOGBOOK_SIM_SEEDS ?? 300);
const CYCLES = 3;
const DIR = "/data/store";

type Op =
  | { type: "put"; key: string; value: string }
  | { type: "delete"; key: string }
  | { type: "batch"; keys: string[]; value: string };

function applyOp(state: Map<string, string>, op: Op): void {
  if (op.type === "put") state.set(op.key, op.value);
  else if (op.type === "delete") state.delete(op.key);
  else for (const key of op.keys) state.set(key, op.value);
}

async function readState(db: Store): Promise<Map<string, string>> {
  const state = new Map<string, string>();
  for await (const entry of db.scan()) state.set(entry.key as string, entry.value as string);
  return state;
}

/**
 * Writes are sequenced synchronously in call order, so the i-th call of a cycle has LSN
 * first + i. After a cut, the state must be the fold of exactly the writes up to the
 * recovered LSN, and that LSN must cover every acknowledged write.
 */
async function runSeed(seed: number): Promise<{ cuts: number; acknowledged: number; fromCheckpoint: number }> {
  const disk = new SimulatedDisk(seed);
  const random = seededRandom(seed ^ 0x570e);
  const options: StoreOptions = { segmentBytes: 8192 + 64, batchBytesMax: 4096, checkpointEveryBytes: 0, valueEncoding: "json" };
  let state = new Map<string, string>();
  let acknowledged = 0;
  let fromCheckpoint = 0;
  const ops = new Map<number, Op>();
  let highestAcked = 0;
  for (let cycle = 0; cycle <= CYCLES; cycle++) {
    const db = await Store.open(DIR, { ...options, fileSystem: disk.view() });
    if (db.recovery.checkpointLsn > 0) fromCheckpoint++;
    const recoveredLsn = db.stats().appliedLsn;
    assert.ok(recoveredLsn >= highestAcked, `seed ${seed}: acknowledged LSN ${highestAcked} lost (recovered ${recoveredLsn})`);
    const expected = new Map(state);
    for (let lsn = 1; lsn <= recoveredLsn; lsn++) {
      const op = ops.get(lsn);
      if (op !== undefined) applyOp(expected, op);
    }
    assert.deepEqual(
      await readState(db),
      expected,
      `seed ${seed}, cycle ${cycle}: state is the fold of the writes up to LSN ${recoveredLsn}`,
    );
    // What survived is now the base; sequenced writes beyond it were lost and their LSNs come again.
    state = expected;
    ops.clear();
    if (cycle === CYCLES) {
      await db.close();
      break;
    }
    disk.crashAfter(1 + Math.floor(random() * 150));
    let next = recoveredLsn + 1;
    const steps = 1 + Math.floor(random() * 40);
    for (let step = 0; step < steps; step++) {
      const key = `k${Math.floor(random() * 6)}`;
      // Values of a few hundred bytes, so that segments fill, rotate and get freed by checkpoints.
      const value = `${seed}:${cycle}:${step}:`.padEnd(100 + Math.floor(random() * 400), "v");
      const kind = random();
      const op: Op =
        kind < 0.6
          ? { type: "put", key, value }
          : kind < 0.8
            ? { type: "delete", key }
            : { type: "batch", keys: [key, `k${Math.floor(random() * 6)}`, "batch"], value };
      const promise =
        op.type === "put"
          ? db.put(op.key, op.value)
          : op.type === "delete"
            ? db.delete(op.key)
            : db.batch(op.keys.map((k) => ({ type: "put" as const, key: k, value: op.value })));
      const lsn = next++;
      ops.set(lsn, op);
      promise.then(
        (version) => {
          assert.equal(version, lsn, "writes are sequenced in call order");
          acknowledged++;
          highestAcked = Math.max(highestAcked, lsn);
        },
        () => undefined,
      );
      if (random() < 0.1) await db.checkpoint().catch(() => undefined);
      const turns = Math.floor(random() * 3);
      for (let t = 0; t < turns; t++) await new Promise((resolve) => setImmediate(resolve));
    }
    for (let t = 0; t < 20 && disk.crashPending; t++) await new Promise((resolve) => setImmediate(resolve));
    if (disk.crashPending) disk.crash();
    await db.close().catch(() => undefined);
  }
  return { cuts: CYCLES, acknowledged, fromCheckpoint };
}

test(`store power cuts on a simulated disk: ${SEEDS} seeds × ${CYCLES} cuts, checkpoints included`, async () => {
  let cuts = 0;
  let acknowledged = 0;
  let fromCheckpoint = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const run = await runSeed(seed);
    cuts += run.cuts;
    acknowledged += run.acknowledged;
    fromCheckpoint += run.fromCheckpoint;
  }
  console.log(
    `# sim store: ${cuts} power cuts over ${SEEDS} seeds, ${acknowledged} acknowledged writes, ${fromCheckpoint} recoveries from a checkpoint`,
  );
  assert.ok(fromCheckpoint > 0);
});
