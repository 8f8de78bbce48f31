/**
 * `logbook start`: what `npm start` runs. Until the server exists (it comes with the store),
 * it opens (or creates) the log of the data directory, recovers it, and reports its state.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { Log } from "../log/log.js";
import { dataDirectoryLog } from "./log-commands.js";
import { printJson } from "./output.js";

export function registerStartCommand(program: Command): void {
  program
    .command("start")
    .description("open (or create) the log of a data directory, recover it, and report its state")
    .option("--data-dir <dir>", "data directory", "data")
    .option("--json", "print JSON")
    .action(async (options: { dataDir: string; json?: boolean }) => {
      const directory = dataDirectoryLog(resolve(options.dataDir));
      await using log = await Log.open(directory);
      const { recovery } = log;
      const state = {
        directory,
        logId: log.id,
        created: recovery.created,
        firstLsn: log.firstLsn,
        lastLsn: log.lastLsn,
        segments: recovery.segments,
        recoveryMs: recovery.durationMs,
        tornTail: recovery.tornTail ?? null,
      };
      if (options.json) return printJson(state);
      process.stdout.write(
        `${recovery.created ? "created" : "recovered"} log ${log.id} in ${directory}: LSNs ${log.firstLsn}..${log.lastLsn}, ` +
          `${recovery.segments} segment(s), recovery took ${recovery.durationMs.toFixed(1)} ms\n`,
      );
      if (recovery.tornTail) process.stdout.write(`cut a torn tail at offset ${recovery.tornTail.offset} (kept aside)\n`);
      process.stdout.write("the log is ready; try `npx logbook log inspect data/log`\n");
    });
}
