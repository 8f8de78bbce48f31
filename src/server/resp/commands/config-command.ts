/**
 * CONFIG GET, SET, RESETSTAT, REWRITE (config.c). The parameters and what setting each does are
 * in config-parameters.ts. CONFIG SET of several parameters is all or nothing, as in Redis: every
 * name and value is checked before any is kept.
 */

import { globMatch } from "../glob.js";
import type { RespHost } from "../host.js";
import { bulkArray, OK, RespError } from "../reply.js";
import { CONFIG_PARAMETERS, type ConfigParameter, findParameter } from "./config-parameters.js";
import { containerCommand, helpReply, type Subcommand } from "./subcommands.js";

const HELP = [
  "GET <pattern>",
  "    Return parameters matching the glob-like <pattern> and their values.",
  "SET <directive> <value>",
  "    Set the configuration <directive> to <value>.",
  "RESETSTAT",
  "    Reset statistics reported by the INFO command.",
  "REWRITE",
  "    Rewrite the configuration file.",
];

/** CONFIG GET pattern [pattern ...]: names and values, each parameter once, as a flat array. */
function configGet(patterns: readonly string[]): [string, ConfigParameter][] {
  const found = new Map<ConfigParameter, string>();
  for (const pattern of patterns) {
    if (!/[[*?]/.test(pattern)) {
      const parameter = findParameter(pattern);
      // An exact name is answered as it was asked, in its case.
      if (parameter !== undefined && !found.has(parameter)) found.set(parameter, pattern);
      continue;
    }
    for (const parameter of CONFIG_PARAMETERS) {
      if (!found.has(parameter) && globMatch(pattern, parameter.name, true)) found.set(parameter, parameter.name);
    }
  }
  return [...found].map(([parameter, name]) => [name, parameter]);
}

function setFailed(name: string, reason: string): RespError {
  return new RespError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${reason}`);
}

/** CONFIG SET name value [name value ...] */
function configSet(host: RespHost, args: readonly string[]): void {
  if (args.length % 2 === 1) throw new RespError("ERR syntax error");
  const pairs: [ConfigParameter, string, string][] = [];
  for (let i = 2; i < args.length; i += 2) {
    const name = args[i] as string;
    const parameter = findParameter(name);
    if (parameter === undefined) throw new RespError(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`);
    if (pairs.some(([seen]) => seen === parameter)) throw setFailed(name, "duplicate parameter");
    pairs.push([parameter, name, args[i + 1] as string]);
  }
  const saved = new Map(host.state.tunables);
  for (const [parameter, name, value] of pairs) {
    const refused = parameter.set(host, value);
    if (refused === undefined) continue;
    host.state.tunables.clear();
    for (const [key, kept] of saved) host.state.tunables.set(key, kept);
    throw setFailed(refused === "can't set immutable config" ? name : parameter.name, refused);
  }
}

const ADMIN = ["@admin", "@slow", "@dangerous"];

const subcommands: Subcommand[] = [
  {
    name: "get",
    arity: -3,
    flags: ["admin", "noscript", "loading", "stale"],
    categories: ADMIN,
    summary: "Get the values of configuration parameters",
    run(context, args) {
      const host = context.host;
      return bulkArray(configGet(args.slice(2)).flatMap(([name, parameter]) => [name, parameter.get(host)]));
    },
  },
  {
    name: "set",
    arity: -4,
    flags: ["admin", "noscript", "loading", "stale"],
    categories: ADMIN,
    summary: "Set configuration parameters to the given values (nothing weaker than the server's sync is ever promised)",
    run(context, args) {
      configSet(context.host, args);
      return OK;
    },
  },
  {
    name: "resetstat",
    arity: 2,
    flags: ["admin", "noscript", "loading", "stale"],
    categories: ADMIN,
    summary: "Reset the stats returned by INFO",
    run(context) {
      context.host.stats.reset();
      return OK;
    },
  },
  {
    name: "rewrite",
    arity: 2,
    flags: ["admin", "noscript", "loading", "stale"],
    categories: ADMIN,
    summary: "Rewrite the configuration file (Logbook: refused, its configuration is a file and flags)",
    run() {
      throw new RespError(
        "ERR Logbook's configuration comes from its config file, environment and flags: CONFIG REWRITE cannot change them",
      );
    },
  },
  {
    name: "help",
    arity: 2,
    flags: ["loading", "stale"],
    categories: ["@slow"],
    summary: "Show helpful text about the different subcommands",
    run: (_context, args) => helpReply(args[0] as string, HELP),
  },
];

export const configCommand = containerCommand(
  { name: "config", summary: "A container for server configuration commands" },
  subcommands,
);
