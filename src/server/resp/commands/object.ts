/**
 * OBJECT (object.c): how a key's value is held. Logbook holds every string the same way, so
 * ENCODING answers what Redis would choose for a value just SET (`int`, `embstr`, `raw`); a
 * value Redis changed in place (APPEND, SETRANGE) it would call `raw` whatever it holds.
 * Logbook keeps no access times: IDLETIME answers 0, FREQ answers as Redis does without an LFU
 * policy.
 */
import { arityHolds, type CommandFlag, type CommandSpec, unknownSubcommand, wrongArity } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { array, bulk, integer, NIL, type Reply, RespError, simple } from "../reply.js";
import { parseInt64 } from "./int64.js";

/** Longest string Redis keeps in one allocation with its header (object.c OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
const EMBSTR_BYTES_MAX = 44;
/** Redis shares one object for each integer below this (server.h OBJ_SHARED_INTEGERS) … */
const SHARED_INTEGERS = 10_000;
/** … and reports its reference count as this (OBJ_SHARED_REFCOUNT). */
const SHARED_REFCOUNT = 2_147_483_647;

const HELP = [
  "ENCODING <key>",
  "    Return the kind of internal representation used in order to store the value",
  "    associated with a <key>.",
  "FREQ <key>",
  "    Return the access frequency index of the <key>. The returned integer is",
  "    proportional to the logarithm of the recent access frequency of the key.",
  "IDLETIME <key>",
  "    Return the idle time of the <key>, that is the approximated number of",
  "    seconds elapsed since the last access to the key.",
  "REFCOUNT <key>",
  "    Return the number of references of the value associated with the specified",
  "    <key>.",
  "HELP",
  "    Prints this help.",
];

const NO_LFU =
  "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";

/** The value at a key as OBJECT describes it: undefined when there is none. */
type Described = { kind: "string"; integer: number | bigint | undefined; bytes: number } | { kind: "stream" };

function describe(context: CommandContext, name: string): Described | undefined {
  const key = context.key(name);
  const kind = context.kindOf(key);
  if (kind === undefined) return undefined;
  if (kind === "stream") return { kind };
  const entry = context.read(key);
  if (entry === undefined) return undefined;
  const value = entry.value;
  // Redis stores a value as an integer when string2ll reads it (tryObjectEncoding).
  return { kind, integer: parseInt64(value), bytes: value.length };
}

function encoding(described: Described): string {
  if (described.kind === "stream") return "stream";
  if (described.integer !== undefined) return "int";
  return described.bytes <= EMBSTR_BYTES_MAX ? "embstr" : "raw";
}

function refcount(described: Described): number {
  const value = described.kind === "string" ? described.integer : undefined;
  return value !== undefined && value >= 0 && value < SHARED_INTEGERS ? SHARED_REFCOUNT : 1;
}

interface Subcommand {
  name: string;
  /** Counting OBJECT and the subcommand's name. */
  arity: number;
  flags: readonly CommandFlag[];
  summary: string;
  run(context: CommandContext, args: string[]): Reply;
}

function withValue(context: CommandContext, args: string[], answer: (described: Described) => Reply): Reply {
  const described = describe(context, args[2] as string);
  return described === undefined ? NIL : answer(described);
}

const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: "help",
    arity: 2,
    flags: ["loading", "stale"],
    summary: "Returns helpful text about the different subcommands.",
    run: (_context, args) =>
      array(
        [`${(args[0] as string).toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...HELP].map(simple),
      ),
  },
  {
    name: "encoding",
    arity: 3,
    flags: ["readonly"],
    summary: "Returns the internal encoding of a Redis object.",
    run: (context, args) => withValue(context, args, (described) => bulk(encoding(described))),
  },
  {
    name: "freq",
    arity: 3,
    flags: ["readonly"],
    summary: "Returns the logarithmic access frequency counter of a Redis object.",
    run: (context, args) =>
      withValue(context, args, () => {
        throw new RespError(NO_LFU);
      }),
  },
  {
    name: "idletime",
    arity: 3,
    flags: ["readonly"],
    summary: "Returns the time since the last access to a Redis object.",
    run: (context, args) => withValue(context, args, () => integer(0)),
  },
  {
    name: "refcount",
    arity: 3,
    flags: ["readonly"],
    summary: "Returns the reference count of a value of a key.",
    run: (context, args) => withValue(context, args, (described) => integer(refcount(described))),
  },
];

export const objectCommands: CommandSpec[] = [
  {
    name: "object",
    arity: -2,
    flags: [],
    categories: ["@slow"],
    summary: "A container for object introspection commands.",
    subcommands: SUBCOMMANDS.map(({ name, arity, flags, summary }) => ({ name, arity, flags, summary })),
    run(context, args) {
      const name = (args[1] as string).toLowerCase();
      const subcommand = SUBCOMMANDS.find((sub) => sub.name === name);
      if (subcommand === undefined) throw unknownSubcommand(args[0] as string, args[1] as string);
      if (!arityHolds(subcommand.arity, args.length)) throw wrongArity(`object|${name}`);
      context.session.lastCommand = `object|${name}`;
      return subcommand.run(context, args);
    },
  },
];
