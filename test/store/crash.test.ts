import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Store } from "../../src/index.js";
import { killAndWait, spawnTs } from "../support/child.js";
import { localLogOnly } from "../support/store-log.js";
import { applyToModel, type ModelState, operationFor, STORE_CRASH_OPTIONS } from "../support/store-workload.js";
import { tempDir } from "../support/temp.js";

const ROUNDS = Number(process.env.LOGBOOK_KILL_ROUNDS ?? 200);
const WORKERS = 8;
const ROUND_TIME_BUDGET_MS = 8000;

interface RoundAcks {
  /** Per worker: index → LSN of each acknowledged operation. */
  acked: Map<number, number>[];
  casValues: number[];
}

async function crashRound(dir: string, round: number, killAfterAcks: number): Promise<RoundAcks> {
  const child = await spawnTs("store-crash-writer.ts", [dir, String(round), String(WORKERS)]);
  const acks: RoundAcks = { acked: Array.from({ length: WORKERS }, () => new Map()), casValues: [] };
  let count = 0;
  let buffered = "";
  let errors = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    errors += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ROUND_TIME_BUDGET_MS);
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const [kind, a, b, c] = line.split(" ");
        if (kind === "ack") acks.acked[Number(a)]?.set(Number(b), Number(c));
        if (kind === "cas") acks.casValues.push(Number(a));
        if (kind === "ack" || kind === "cas") count++;
      }
      if (count >= killAfterAcks) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === null) reject(new Error(`writer exited by itself (${code}): ${errors}`));
    });
  });
  await killAndWait(child, "SIGKILL");
  return acks;
}

async function workerState(db: Store, worker: number): Promise<Map<string, { value: unknown; version: number }>> {
  const state = new Map<string, { value: unknown; version: number }>();
  for await (const entry of db.scan({ prefix: `w${worker}-` }))
    state.set(entry.key as string, { value: entry.value, version: entry.version });
  return state;
}

function sameValues(state: Map<string, { value: unknown }>, model: ModelState): boolean {
  if (state.size !== model.size) return false;
  for (const [key, value] of model)
    if (!state.has(key) || JSON.stringify(state.get(key)?.value) !== JSON.stringify(value)) return false;
  return true;
}

describe(
  "store crash: SIGKILL under concurrent puts, deletes, batches, CAS and checkpoints",
  localLogOnly("a killed process reopens its files"),
  () => {
    let dir: string;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ path: dir, cleanup } = await tempDir());
    });
    after(async () => {
      await cleanup();
    });

    test(`after each of ${ROUNDS} kills the state is a prefix of every worker's operations holding all acknowledged ones`, async () => {
      const models: ModelState[] = Array.from({ length: WORKERS }, () => new Map());
      const casSeen = new Set<number>();
      let acknowledged = 0;
      let withInFlight = 0;
      let checkpointLoads = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Skewed small, zero included: kills land during start-up, recovery and checkpoints too.
        const acks = await crashRound(dir, round, Math.floor(Math.random() ** 3 * 500));
        // Read-only: no writer thread to start, and the next child recovers what the kill left.
        await using db = await Store.open(dir, { ...STORE_CRASH_OPTIONS, readOnly: true });
        if (db.recovery.checkpointLsn > 0) checkpointLoads++;
        for (let worker = 0; worker < WORKERS; worker++) {
          const acked = acks.acked[worker] as Map<number, number>;
          acknowledged += acked.size;
          const lastAcked = acked.size - 1;
          // Each worker awaits each operation: its acknowledged ones are 0..lastAcked, in order.
          for (let i = 0; i <= lastAcked; i++) assert.ok(acked.has(i), `worker ${worker} acknowledged ${i}`);
          const base = new Map(models[worker]);
          for (let i = 0; i <= lastAcked; i++) applyToModel(base, operationFor(round, worker, i));
          const withNext = new Map(base);
          applyToModel(withNext, operationFor(round, worker, lastAcked + 1));
          const state = await workerState(db, worker);
          const matchesAcked = sameValues(state, base);
          const matchesNext = sameValues(state, withNext);
          assert.ok(
            matchesAcked || matchesNext,
            `worker ${worker}, round ${round}: recovered state is no prefix holding all ${acked.size} acknowledged operations`,
          );
          if (!matchesAcked) withInFlight++;
          if (matchesAcked && lastAcked >= 0) {
            // Every key written by an acknowledged operation carries that operation's LSN as version.
            const lastWriter = new Map<string, number>();
            for (let i = 0; i <= lastAcked; i++) {
              const op = operationFor(round, worker, i);
              const keys = op.kind === "batch" ? op.ops.map((o) => o.key) : [op.key];
              for (const key of keys) lastWriter.set(key, acked.get(i) as number);
            }
            for (const [key, lsn] of lastWriter) {
              const entry = state.get(key);
              if (entry !== undefined) assert.equal(entry.version, lsn, `version of ${key}`);
            }
          }
          models[worker] = new Map([...state].map(([key, entry]) => [key, entry.value]));
        }
        // The shared counter: every CAS success wrote a distinct value, and none is lost.
        for (const value of acks.casValues) {
          assert.ok(!casSeen.has(value), `two CAS successes wrote ${value}`);
          casSeen.add(value);
        }
        const counter = (db.getSync("shared-counter")?.value as number | undefined) ?? 0;
        const highest = Math.max(0, ...casSeen);
        assert.ok(counter >= highest, `counter ${counter} lost an acknowledged increment to ${highest}`);
        assert.ok(counter <= highest + WORKERS, `counter ${counter} is ahead of what was sequenced`);
        for (let v = counter; v > highest; v--) casSeen.add(v);
      }
      assert.ok(acknowledged > ROUNDS * 10);
      console.log(
        `# store crash: ${ROUNDS} SIGKILL rounds, ${acknowledged} acknowledged operations checked, ` +
          `${withInFlight} worker states held their in-flight operation, ${checkpointLoads} recoveries started from a checkpoint`,
      );
    });
  },
);
