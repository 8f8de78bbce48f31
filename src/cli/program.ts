/**
 * The `logbook` command: its subcommands and how an error ends it (main.ts runs it).
 */
import { Command, CommanderError } from "commander";
import { LogbookError } from "../errors.js";
import { PACKAGE_VERSION } from "../version.js";
import { registerLogCommands } from "./log-commands.js";
import { endQuietlyOnClosedPipe } from "./output.js";
import { registerServeCommand } from "./serve-command.js";
import { registerStoreCommands } from "./store-commands.js";
import { registerStreamCommands } from "./stream-commands.js";

endQuietlyOnClosedPipe();
const program = new Command()
  .name("logbook")
  .description("Logbook: a durable write-ahead log, and the storage built on it")
  .version(PACKAGE_VERSION, "-V, --version", "print the version (package.json's)")
  .showHelpAfterError()
  .exitOverride();
registerLogCommands(program);
registerStoreCommands(program);
registerStreamCommands(program);
registerServeCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof LogbookError) {
    process.stderr.write(`logbook: ${error.message} [${error.code}]\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`logbook: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 70;
  }
}
