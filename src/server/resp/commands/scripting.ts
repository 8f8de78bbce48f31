/**
 * FUNCTION and SCRIPT: Logbook runs no server-side code. Their FLUSH answers OK (there is
 * nothing to flush: clients and Redis's test harness call it between tests), and anything else
 * says that scripting is not offered.
 */
import type { CommandSpec } from "../command-spec.js";
import { syntaxError } from "../command-spec.js";
import { EMPTY_ARRAY, OK, RespError } from "../reply.js";
import { containerCommand, type Subcommand } from "./subcommands.js";

function flush(_context: unknown, args: string[]): string {
  if (args.length > 3) throw syntaxError();
  const mode = args[2]?.toLowerCase();
  if (mode !== undefined && mode !== "async" && mode !== "sync") throw syntaxError();
  return OK;
}

function notOffered(): never {
  throw new RespError("ERR Logbook does not run scripts or functions");
}

const flushSubcommand: Subcommand = {
  name: "flush",
  arity: -2,
  flags: ["write", "noscript"],
  categories: ["@write", "@slow", "@scripting"],
  summary: "Deletes all functions or scripts (there are none)",
  run: flush,
};

export const scriptingCommands: CommandSpec[] = [
  containerCommand({ name: "function", summary: "Server-side functions (not offered; FLUSH and LIST answer)" }, [
    flushSubcommand,
    {
      name: "list",
      arity: -2,
      flags: ["noscript"],
      categories: ["@slow", "@scripting"],
      summary: "Lists functions (there are none)",
      run: () => EMPTY_ARRAY,
    },
    {
      name: "load",
      arity: -3,
      flags: ["write", "noscript"],
      categories: ["@scripting"],
      summary: "Not offered",
      run: notOffered,
    },
  ]),
  containerCommand({ name: "script", summary: "Lua scripts (not offered; FLUSH answers)" }, [
    { ...flushSubcommand, flags: ["noscript"] },
    { name: "load", arity: 3, flags: ["noscript"], categories: ["@scripting"], summary: "Not offered", run: notOffered },
  ]),
];
