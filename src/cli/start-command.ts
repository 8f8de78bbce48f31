/**
 * `logbook start`: what `npm start` runs. Until the server exists, it opens (or creates) the
 * store of the data directory, recovers it, reports its state, checkpoints it, and exits.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { Store } from "../store/store.js";
import { printJson } from "./output.js";

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("open (or create) the store of a data directory, recover it, and report its state")
    .option("--data-dir <dir>", "data directory", "data")
    .option("--json", "print JSON")
    .action(async (options: { dataDir: string; json?: boolean }) => {
      const directory = resolve(options.dataDir);
      await using db = await Store.open(directory);
      const { recovery } = db;
      const log = db.logStats;
      const state = {
        directory,
        created: log.recovery.created,
        keys: db.stats().keys,
        lastLsn: log.lastLsn,
        checkpointLsn: recovery.checkpointLsn,
        recordsReplayed: recovery.recordsReplayed,
        recoveryMs: recovery.durationMs + log.recovery.durationMs,
        tornTail: log.recovery.tornTail ?? null,
      };
      if (options.json) return printJson(state);
      process.stdout.write(
        `${state.created ? "created" : "recovered"} the store in ${directory}: ${state.keys} keys, last LSN ${state.lastLsn}, ` +
          `checkpoint at ${state.checkpointLsn}, ${state.recordsReplayed} records replayed in ${state.recoveryMs.toFixed(1)} ms\n`,
      );
      if (state.tornTail) process.stdout.write(`cut a torn log tail at offset ${state.tornTail.offset} (kept aside)\n`);
      process.stdout.write(
        `try: npx logbook store put ${options.dataDir} greeting '"hello"' && npx logbook store scan ${options.dataDir}\n`,
      );
    });
}
