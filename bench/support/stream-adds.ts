/**
 * bench:streams' first part: durable stream adds (one field, a 100-byte value) against the
 * store's own durable puts of 100-byte values, in the same run, with the same store options,
 * a fresh directory for each run. Each round runs both systems at each concurrency, the order
 * of the two swapped every round so that the machine's drift falls on both alike; a ratio is
 * taken between the two runs of one round.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Store } from "../../src/index.js";
import { GET_KEYS, keyFor, VALUE } from "./store-systems.js";
import { collectGarbage, ENTRY_FIELDS, STREAM_KEY, writeUntil } from "./stream-load.js";

export const ADD_SYSTEMS = ["adds", "puts"] as const;
export type AddSystem = (typeof ADD_SYSTEMS)[number];

export interface AddFigure {
  system: AddSystem;
  concurrency: number;
  round: number;
  opsPerSecond: number;
}

export interface AddsPlan {
  levels: readonly number[];
  rounds: number;
  seconds: number;
  warmUpSeconds: number;
}

/** One run: a fresh store, `concurrency` closed-loop writers for warm-up then `seconds`, measured. */
async function runOnce(root: string, system: AddSystem, concurrency: number, plan: AddsPlan): Promise<number> {
  const dir = join(root, `${system}-${concurrency}`);
  rmSync(dir, { recursive: true, force: true });
  const db = await Store.open(dir, { sync: "always", valueEncoding: "utf8", checkpointEveryBytes: 0 });
  const write =
    system === "adds" ? () => db.streams.add(STREAM_KEY, ENTRY_FIELDS) : (i: number) => db.put(keyFor(i % GET_KEYS), VALUE);
  await writeUntil(concurrency, performance.now() + plan.warmUpSeconds * 1000, write);
  const started = performance.now();
  const done = await writeUntil(concurrency, started + plan.seconds * 1000, write);
  const seconds = (performance.now() - started) / 1000;
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  collectGarbage();
  return done / seconds;
}

export async function measureAddsAndPuts(root: string, plan: AddsPlan): Promise<AddFigure[]> {
  const figures: AddFigure[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (const concurrency of plan.levels) {
      const order = round % 2 === 0 ? ADD_SYSTEMS : [...ADD_SYSTEMS].reverse();
      for (const system of order) {
        const opsPerSecond = await runOnce(root, system, concurrency, plan);
        const figure = { system, concurrency, round, opsPerSecond };
        console.log(JSON.stringify({ bench: "streams", figure: "adds-and-puts", ...figure }));
        figures.push(figure);
      }
    }
  }
  return figures;
}

/** adds/s over puts/s in each round, at one concurrency. */
export function addRatios(figures: readonly AddFigure[], concurrency: number): number[] {
  const at = figures.filter((f) => f.concurrency === concurrency);
  return at
    .filter((f) => f.system === "adds")
    .flatMap((adds) => {
      const puts = at.find((f) => f.system === "puts" && f.round === adds.round);
      return puts === undefined ? [] : [adds.opsPerSecond / puts.opsPerSecond];
    });
}
