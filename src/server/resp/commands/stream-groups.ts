/**
 * Consumer groups (t_stream.c): XGROUP and its subcommands, XACK and XPENDING (XCLAIM and
 * XAUTOCLAIM in stream-claims.ts). Arguments are read in Redis 7.0's order; where Redis looks
 * the key and group up before reading the rest, the store decides at apply time and this
 * explains its outcome with Redis's texts. NOGROUP texts name the key as the client named it.
 */
import { isLogbookError } from "../../../errors.js";
import { type CommandFlag, type CommandSpec, syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { array, bulk, bulkArray, EMPTY_ARRAY, integer, NIL, NIL_ARRAY, OK, type Reply, RespError } from "../reply.js";
import {
  clampToNumber,
  formatId,
  type Id,
  intervalBound,
  longLongArg,
  parseId,
  storeKey,
  storeName,
  strictId,
} from "./stream-args.js";
import { holdsStream, noGroupForKey, noKeyOrGroup, WRONGTYPE, withGroup } from "./stream-errors.js";
import { orderedStep, streamWrite } from "./stream-order.js";
import { containerCommand, helpReply, type Subcommand } from "./subcommands.js";

/** Redis's reply to a subcommand with arguments it does not take. */
export function subcommandSyntaxError(args: readonly string[]): RespError {
  const sub = (args[1] as string).slice(0, 128);
  return new RespError(
    `ERR unknown subcommand or wrong number of arguments for '${sub}'. Try ${(args[0] as string).toUpperCase()} HELP.`,
  );
}

const XGROUP_HELP = [
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
];

/** XGROUP's subcommands but HELP (the container has checked the subcommand's arity). */
function xgroup(context: CommandContext, args: string[], sub: string): Promise<Reply> {
  let mkStream = false;
  let entriesRead: number | undefined;
  for (let i = 5; i < args.length; ) {
    const option = (args[i] as string).toLowerCase();
    if (sub === "create" && option === "mkstream") {
      mkStream = true;
      i++;
    } else if ((sub === "create" || sub === "setid") && option === "entriesread" && i + 1 < args.length) {
      const value = longLongArg(args[i + 1] as string);
      if (value < 0n && value !== -1n) throw new RespError("ERR value for ENTRIESREAD must be positive or -1");
      entriesRead = value === -1n ? undefined : clampToNumber(value);
      i += 2;
    } else {
      throw subcommandSyntaxError(args);
    }
  }
  const name = args[2] as string;
  const group = args[3] as string;
  const target = { key: context.key(name), name, group, sub, mkStream, entriesRead };
  return streamWrite(context, target.key.length + group.length, () => groupChange(context, args, target));
}

interface GroupTarget {
  key: string;
  name: string;
  group: string;
  sub: string;
  mkStream: boolean;
  entriesRead: number | undefined;
}

const NEEDS_KEY =
  "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

/**
 * What Redis answers before anything else when the key or group is missing. The store decides
 * that itself when it applies the change (a pipelined write before it may not be applied
 * yet); this explains the outcome, or runs first when an argument after the key is bad.
 */
function checkGroupTarget(context: CommandContext, target: GroupTarget, view: "applied" | "latest"): void {
  const kind = context.store.keyspace.kindOf(target.key, view);
  if (kind === "string") throw new RespError(WRONGTYPE);
  if (target.mkStream) return;
  if (kind === undefined) throw new RespError(NEEDS_KEY);
  const known = context.store.streams.hasGroup(storeKey(target.key), storeName(target.group));
  if (!known && target.sub !== "create" && target.sub !== "destroy") throw noGroupForKey(target.name, target.group);
}

/** Parses an argument read after Redis has looked the key and group up: a bad one loses to their errors. */
function afterTarget<T>(context: CommandContext, target: GroupTarget, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    checkGroupTarget(context, target, "latest");
    throw error;
  }
}

/** The subcommand itself; the store refuses it when the key or group is missing, and this then explains why. */
function groupChange(context: CommandContext, args: readonly string[], target: GroupTarget): Promise<Reply> {
  const streams = context.store.streams;
  const key = storeKey(target.key);
  const group = storeName(target.group);
  const explain = (error: unknown): never => {
    if (!isLogbookError(error, "LOGBOOK_NO_GROUP")) throw error;
    checkGroupTarget(context, target, "applied");
    throw noGroupForKey(target.name, target.group);
  };
  const entriesRead = target.entriesRead === undefined ? {} : { entriesRead: target.entriesRead };
  const count = args.length;
  const sub = target.sub;
  if (sub === "create" && count >= 5 && count <= 8) {
    const start = args[4] === "$" ? "$" : afterTarget(context, target, () => formatId(strictId(args[4] as string)));
    return streams.createGroup(key, group, { start, mkStream: target.mkStream, ...entriesRead }).then(() => OK);
  }
  if (sub === "setid" && (count === 5 || count === 7)) {
    const start = args[4] === "$" ? "$" : afterTarget(context, target, () => formatId(parseId(args[4] as string, 0n, false)));
    return streams.setGroupId(key, group, start, entriesRead).then(() => OK, explain);
  }
  if (sub === "destroy" && count === 4) {
    return streams.destroyGroup(key, group).then((gone) => {
      if (!gone) checkGroupTarget(context, target, "applied");
      return integer(gone ? 1 : 0);
    });
  }
  const consumer = storeName((args[4] ?? "") as string);
  if (sub === "createconsumer" && count === 5) {
    return streams.createConsumer(key, group, consumer).then((made) => integer(made ? 1 : 0), explain);
  }
  if (sub === "delconsumer" && count === 5) return streams.deleteConsumer(key, group, consumer).then(integer, explain);
  return afterTarget(context, target, () => {
    throw subcommandSyntaxError(args);
  });
}

/**
 * XACK: Redis answers 0 on no key or group before it reads the IDs. The store answers 0 too
 * when it applies the ack; only a bad ID makes this look them up first.
 */
function xack(context: CommandContext, args: string[]): Promise<Reply> {
  const key = context.key(args[1] as string);
  const group = storeName(args[2] as string);
  return streamWrite(context, key.length + 16 * (args.length - 3), async () => {
    let ids: string[];
    try {
      ids = args.slice(3).map((id) => formatId(strictId(id)));
    } catch (error) {
      const kind = context.store.keyspace.kindOf(key, "latest");
      if (kind === "string") throw new RespError(WRONGTYPE);
      if (kind === undefined || !context.store.streams.hasGroup(storeKey(key), group)) return 0;
      throw error;
    }
    return context.store.streams.ack(storeKey(key), group, ids);
  }).then(integer);
}

function xpending(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const argc = args.length;
  if (argc !== 3 && (argc < 6 || argc > 9)) throw syntaxError();
  let range: { start: Id; end: Id; count: number; minIdleMs: number; consumer: string | undefined } | undefined;
  if (argc >= 6) {
    let at = 3;
    let minIdleMs = 0;
    if ((args[3] as string).toLowerCase() === "idle") {
      minIdleMs = clampToNumber(longLongArg(args[4] as string));
      if (argc < 8) throw syntaxError();
      at += 2;
    }
    const count = longLongArg(args[at + 2] as string);
    const start = intervalBound(args[at] as string, "start");
    const end = intervalBound(args[at + 1] as string, "end");
    const consumer = at + 3 < argc ? args[at + 3] : undefined;
    range = { start, end, count: count < 0n ? 0 : clampToNumber(count), minIdleMs, consumer };
  }
  const name = args[1] as string;
  const group = args[2] as string;
  const key = context.key(name);
  return orderedStep(context, () => {
    if (!holdsStream(context, key) || !context.store.streams.hasGroup(storeKey(key), storeName(group))) {
      throw noKeyOrGroup(name, group);
    }
    return withGroup(
      () => noKeyOrGroup(name, group),
      () => (range === undefined ? pendingSummary(context, key, group) : pendingRange(context, key, group, range)),
    );
  });
}

function pendingSummary(context: CommandContext, key: string, group: string): Reply {
  const summary = context.store.streams.pending(storeKey(key), storeName(group), { binary: true });
  if (summary.count === 0) return `*4\r\n${integer(0)}${NIL}${NIL}${NIL_ARRAY}`;
  const consumers = summary.consumers.map((c) => bulkArray([c.name, String(c.count)]));
  return `*4\r\n${integer(summary.count)}${bulk(summary.smallest as string)}${bulk(summary.largest as string)}${array(consumers)}`;
}

function pendingRange(
  context: CommandContext,
  key: string,
  group: string,
  range: { start: Id; end: Id; count: number; minIdleMs: number; consumer: string | undefined },
): Reply {
  if (range.count === 0) return EMPTY_ARRAY;
  const entries = context.store.streams.pendingEntries(storeKey(key), storeName(group), {
    start: formatId(range.start),
    end: formatId(range.end),
    count: range.count,
    minIdleMs: range.minIdleMs,
    ...(range.consumer === undefined ? {} : { consumer: storeName(range.consumer) }),
    binary: true,
  });
  return array(entries.map((e) => `*4\r\n${bulk(e.id)}${bulk(e.consumer)}${integer(e.idleMs)}${integer(e.deliveries)}`));
}

function groupSubcommand(name: string, arity: number, write: readonly CommandFlag[], summary: string): Subcommand {
  return { name, arity, flags: write, categories: ["@write", "@stream", "@slow"], summary, run: (c, a) => xgroup(c, a, name) };
}

const xgroupCommand = containerCommand({ name: "xgroup", summary: "A container for consumer groups commands." }, [
  groupSubcommand("create", -5, ["write", "denyoom"], "Create a consumer group."),
  groupSubcommand("setid", -5, ["write"], "Set a consumer group to an arbitrary last delivered ID value."),
  groupSubcommand("destroy", 4, ["write"], "Destroy a consumer group."),
  groupSubcommand("createconsumer", 5, ["write", "denyoom"], "Create a consumer in a consumer group."),
  groupSubcommand("delconsumer", 5, ["write"], "Delete a consumer from a consumer group."),
  {
    name: "help",
    arity: 2,
    flags: ["loading", "stale"],
    categories: ["@stream", "@slow"],
    summary: "Show helpful text about the different subcommands.",
    run: (_context, args) => helpReply(args[0] as string, XGROUP_HELP),
  },
]);

const ONE_KEY = { first: 1, last: 1, step: 1 };

export const groupCommands: CommandSpec[] = [
  xgroupCommand,
  {
    name: "xack",
    arity: -4,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@stream", "@fast"],
    summary: "Marks pending messages as processed, removing them from the pending entries list of the consumer group.",
    run: xack,
  },
  {
    name: "xpending",
    arity: -3,
    flags: ["readonly"],
    keys: ONE_KEY,
    categories: ["@read", "@stream", "@slow"],
    summary: "Return information and entries from a stream consumer group pending entries list.",
    run: xpending,
  },
];
