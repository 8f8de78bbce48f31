/**
 * COMMAND, COMMAND COUNT, LIST, INFO, DOCS, GETKEYS (server.c), built from the command table's
 * specs. COMMAND INFO's reply per command (Redis 7.0): name, arity, flags, first key, last key,
 * key step, ACL categories, tips, key specs, subcommands. COMMAND DOCS gives each command's
 * summary and group; Logbook keeps no argument lists, `since` or complexity, which Redis's
 * clients treat as optional. In RESP2 Redis's maps are flat arrays of names and values.
 */
import { type CommandFlag, type CommandSpec, type CommandTable, syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { globMatch } from "../glob.js";
import { array, bulk, bulkArray, integer, NIL, type Reply, RespError, simple } from "../reply.js";
import { containerCommand, helpReply, type Subcommand } from "./subcommands.js";

/** A command or subcommand as COMMAND describes it: its full name (`config|get`) and spec fields. */
interface Described {
  fullName: string;
  arity: number;
  flags: readonly CommandFlag[];
  categories: readonly string[];
  summary: string;
  keys?: CommandSpec["keys"];
  subcommands: readonly Described[];
}

/** ACL categories in the order Redis lists them. */
// biome-ignore format: one table
const CATEGORY_ORDER = [
  "@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string", "@bitmap", "@hyperloglog",
  "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow", "@blocking", "@dangerous", "@connection", "@transaction",
  "@scripting",
];

/** The categories Redis adds for a command's flags (setImplicitACLCategories), with the declared ones. */
function categoriesOf(flags: readonly CommandFlag[], declared: readonly string[] = []): string[] {
  const found = new Set(declared);
  if (flags.includes("write")) found.add("@write");
  if (flags.includes("readonly")) found.add("@read");
  if (flags.includes("admin")) found.add("@admin").add("@dangerous");
  if (flags.includes("pubsub")) found.add("@pubsub");
  if (flags.includes("blocking")) found.add("@blocking");
  found.add(flags.includes("fast") ? "@fast" : "@slow");
  if (found.has("@fast")) found.delete("@slow");
  const rank = (category: string) => {
    const at = CATEGORY_ORDER.indexOf(category);
    return at === -1 ? CATEGORY_ORDER.length : at;
  };
  return [...found].sort((a, b) => rank(a) - rank(b));
}

function describe(spec: CommandSpec): Described {
  return {
    fullName: spec.name,
    arity: spec.arity,
    flags: spec.flags,
    categories: spec.categories ?? categoriesOf(spec.flags),
    summary: spec.summary ?? "",
    ...(spec.keys === undefined ? {} : { keys: spec.keys }),
    subcommands: (spec.subcommands ?? []).map((sub) => ({
      fullName: sub.name.includes("|") ? sub.name : `${spec.name}|${sub.name}`,
      arity: sub.arity,
      flags: sub.flags,
      categories: sub.categories ?? categoriesOf(sub.flags),
      summary: sub.summary ?? "",
      subcommands: [],
    })),
  };
}

/** The command or subcommand (`config|get`) named, in any case. */
function lookup(table: CommandTable, name: string): Described | undefined {
  const [parent, child] = name.toLowerCase().split("|", 2) as [string, string | undefined];
  const spec = table.find(parent);
  if (spec === undefined) return undefined;
  const described = describe(spec);
  return child === undefined ? described : described.subcommands.find((sub) => sub.fullName === `${spec.name}|${child}`);
}

/** A key spec as Redis 7 reports it, for a command that declares where its keys are. */
function keySpecs(described: Described): Reply {
  const keys = described.keys;
  if (keys === undefined || keys.first === 0) return array([]);
  const access = described.flags.includes("write") ? ["RW", "update"] : ["RO", "access"];
  return array([
    array([
      bulk("flags"),
      array(access.map(simple)),
      bulk("begin_search"),
      array([bulk("type"), bulk("index"), bulk("spec"), array([bulk("index"), integer(keys.first)])]),
      bulk("find_keys"),
      array([
        bulk("type"),
        bulk("range"),
        bulk("spec"),
        array([
          bulk("lastkey"),
          integer(keys.last < 0 ? keys.last : keys.last - keys.first),
          bulk("keystep"),
          integer(keys.step),
          bulk("limit"),
          integer(0),
        ]),
      ]),
    ]),
  ]);
}

function infoReply(described: Described | undefined): Reply {
  if (described === undefined) return NIL;
  const keys = described.keys ?? { first: 0, last: 0, step: 0 };
  return array([
    bulk(described.fullName),
    integer(described.arity),
    array(described.flags.map(simple)),
    integer(keys.first),
    integer(keys.last),
    integer(keys.step),
    array(described.categories.map(simple)),
    array([]),
    keySpecs(described),
    array(described.subcommands.map(infoReply)),
  ]);
}

/** Containers whose group their categories do not tell. */
const GROUP_OF_CONTAINER: Record<string, string> = { client: "connection", command: "server" };

/** The group COMMAND DOCS names (a subcommand is in its container's group), from the categories. */
function groupOf(described: Described): string {
  const name = described.fullName.split("|")[0] as string;
  const fixed = GROUP_OF_CONTAINER[name];
  if (fixed !== undefined) return fixed;
  const categories = described.categories;
  if (categories.includes("@stream")) return "stream";
  if (categories.includes("@bitmap")) return "bitmap";
  if (categories.includes("@string")) return "string";
  if (categories.includes("@transaction")) return "transactions";
  if (categories.includes("@connection")) return "connection";
  if (categories.includes("@keyspace")) return "generic";
  return "server";
}

function docsReply(described: Described): Reply {
  const fields = [bulk("summary"), bulk(described.summary), bulk("group"), bulk(groupOf(described))];
  if (described.subcommands.length > 0) {
    fields.push(bulk("subcommands"), array(described.subcommands.flatMap((sub) => [bulk(sub.fullName), docsReply(sub)])));
  }
  return array(fields);
}

function allDescribed(table: CommandTable): Described[] {
  return [...table.all()].map(describe);
}

/** COMMAND GETKEYS command arg ...: where the spec says the keys are; XREAD's and XREADGROUP's follow STREAMS. */
function getKeys(context: CommandContext, args: string[]): Reply {
  const command = args.slice(2);
  const spec = context.host.commands.find(command[0] as string);
  if (spec === undefined) throw new RespError("ERR Invalid command specified");
  const streams = spec.name === "xread" || spec.name === "xreadgroup";
  if ((spec.keys === undefined || spec.keys.first === 0) && !streams) {
    throw new RespError("ERR The command has no key arguments");
  }
  if ((spec.arity > 0 && spec.arity !== command.length) || command.length < -spec.arity) {
    throw new RespError("ERR Invalid number of arguments specified for command");
  }
  if (streams) {
    const at = command.findIndex((arg, i) => i > 0 && arg.toLowerCase() === "streams");
    if (at === -1) throw new RespError("ERR Invalid arguments specified for command");
    return bulkArray(command.slice(at + 1, at + 1 + Math.floor((command.length - at - 1) / 2)));
  }
  const { first, last, step } = spec.keys as { first: number; last: number; step: number };
  const end = last < 0 ? command.length + last : last;
  const keys: string[] = [];
  for (let i = first; i <= end && i < command.length; i += step) keys.push(command[i] as string);
  return bulkArray(keys);
}

function list(context: CommandContext, args: string[]): Reply {
  const names = allDescribed(context.host.commands).flatMap((d) => [d.fullName, ...d.subcommands.map((s) => s.fullName)]);
  if (args.length === 2) return bulkArray(names);
  if (args.length !== 5 || (args[2] as string).toLowerCase() !== "filterby") throw syntaxError();
  const kind = (args[3] as string).toLowerCase();
  const value = args[4] as string;
  if (kind === "pattern") return bulkArray(names.filter((name) => globMatch(value, name, true)));
  if (kind === "module") return bulkArray([]);
  if (kind !== "aclcat") throw syntaxError();
  const category = `@${value.toLowerCase()}`;
  const described = allDescribed(context.host.commands).flatMap((d) => [d, ...d.subcommands]);
  return bulkArray(described.filter((d) => d.categories.includes(category)).map((d) => d.fullName));
}

const HELP = [
  "(no subcommand)",
  "    Return details about all Redis commands.",
  "COUNT",
  "    Return the total number of commands in this Redis server.",
  "LIST",
  "    Return a list of all commands in this Redis server.",
  "INFO [<command-name> ...]",
  "    Return details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "DOCS [<command-name> ...]",
  "    Return documentation details about multiple Redis commands.",
  "    If no command names are given, documentation details for all",
  "    commands are returned.",
  "GETKEYS <full-command>",
  "    Return the keys from a full Redis command.",
];

const FLAGS: CommandFlag[] = ["loading", "stale"];
const CATEGORIES = ["@slow", "@connection"];

const subcommands: Subcommand[] = [
  {
    name: "count",
    arity: 2,
    flags: FLAGS,
    categories: CATEGORIES,
    summary: "Get total number of Redis commands",
    run: (context) => integer(context.host.commands.size),
  },
  {
    name: "list",
    arity: -2,
    flags: FLAGS,
    categories: CATEGORIES,
    summary: "Get an array of Redis command names",
    run: list,
  },
  {
    name: "info",
    arity: -2,
    flags: FLAGS,
    categories: CATEGORIES,
    summary: "Get array of specific Redis command details, or all when no argument is given.",
    run(context, args) {
      const table = context.host.commands;
      if (args.length === 2) return array(allDescribed(table).map(infoReply));
      return array(args.slice(2).map((name) => infoReply(lookup(table, name))));
    },
  },
  {
    name: "docs",
    arity: -2,
    flags: FLAGS,
    categories: CATEGORIES,
    summary: "Get array of specific Redis command documentation",
    run(context, args) {
      const table = context.host.commands;
      const described = args.length === 2 ? allDescribed(table) : args.slice(2).map((name) => lookup(table, name));
      return array(described.flatMap((d) => (d === undefined ? [] : [bulk(d.fullName), docsReply(d)])));
    },
  },
  {
    name: "getkeys",
    arity: -4,
    flags: FLAGS,
    categories: CATEGORIES,
    summary: "Extract keys given a full Redis command",
    run: getKeys,
  },
  {
    name: "help",
    arity: 2,
    flags: FLAGS,
    categories: CATEGORIES,
    summary: "Show helpful text about the different subcommands",
    run: (_context, args) => helpReply(args[0] as string, HELP),
  },
];

export const commandCommand = containerCommand(
  {
    name: "command",
    summary: "Get array of Redis command details",
    arity: -1,
    flags: FLAGS,
    categories: CATEGORIES,
    alone: (context) => array(allDescribed(context.host.commands).map(infoReply)),
  },
  subcommands,
);
