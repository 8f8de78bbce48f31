/**
 * The child of the store SIGKILL test. Each worker owns its keys and runs a deterministic
 * sequence of operations (puts, deletes, batches over its keys, CAS on its own counter), one
 * at a time, printing `ack <worker> <index> <lsn>` after each is acknowledged. All workers
 * also race on one shared counter with CAS, printing `cas <value> <lsn>` per success. A
 * checkpointer runs all the time, so kills land during checkpoints too.
 */
import { Store } from "../../src/index.js";
import { operationFor, STORE_CRASH_OPTIONS } from "./store-workload.js";

const [dir, roundText, workersText] = process.argv.slice(2);
if (dir === undefined || roundText === undefined) throw new Error("usage: store-crash-writer DIR ROUND [WORKERS]");
const round = Number(roundText);
const workers = Number(workersText ?? 8);
const db = await Store.open(dir, STORE_CRASH_OPTIONS);
process.stdout.write("ready\n");

async function worker(id: number): Promise<void> {
  for (let index = 0; ; index++) {
    const op = operationFor(round, id, index);
    let lsn: number;
    if (op.kind === "put") lsn = await db.put(op.key, op.value);
    else if (op.kind === "delete") lsn = await db.delete(op.key);
    else if (op.kind === "batch") lsn = await db.batch(op.ops);
    else {
      const current = db.getSync(op.key);
      lsn = await db.put(op.key, ((current?.value as number | undefined) ?? 0) + 1, { ifVersion: current?.version ?? 0 });
    }
    process.stdout.write(`ack ${id} ${index} ${lsn}\n`);
    // The shared counter: every worker races on it.
    for (;;) {
      const current = db.getSync("shared-counter");
      const next = ((current?.value as number | undefined) ?? 0) + 1;
      try {
        const casLsn = await db.put("shared-counter", next, { ifVersion: current?.version ?? 0 });
        process.stdout.write(`cas ${next} ${casLsn}\n`);
        break;
      } catch (error) {
        if ((error as { code?: string }).code !== "LOGBOOK_CONFLICT") throw error;
        // The winner's write applies once the event loop hears from the log: let it turn.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  }
}

async function checkpointer(): Promise<void> {
  for (;;) {
    await db.checkpoint();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

await Promise.all([checkpointer(), ...Array.from({ length: workers }, (_, id) => worker(id))]);
