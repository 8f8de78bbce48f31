/**
 * XINFO STREAM [FULL [COUNT n]], XINFO GROUPS, XINFO CONSUMERS and XINFO HELP, in Redis 7.0's
 * shapes (t_stream.c xinfoCommand): maps as flat name/value arrays, in Redis's field order.
 *
 * Redis's `radix-tree-keys` and `radix-tree-nodes` describe its in-memory layout, which the
 * store does not have: they are given as Redis would have them for a stream appended to in
 * order with its default node size (100 entries per node).
 */
import type { CommandSpec } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { array, bulk, integer, type Reply, RespError } from "../reply.js";
import { longLongArg, storeKey, storeName } from "./stream-args.js";
import { holdsStream, noGroupForKey, withGroup } from "./stream-errors.js";
import { subcommandSyntaxError } from "./stream-groups.js";
import { orderedStep } from "./stream-order.js";
import { entriesReply, entryOrNil, integerOrNil, mapReply } from "./stream-replies.js";
import { containerCommand, helpReply, type Subcommand } from "./subcommands.js";

const XINFO_HELP = [
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
];

/** Redis's node size: `radix-tree-keys` as it would be for `length` entries appended in order. */
const NODE_ENTRIES = 100;

function radixTree(length: number): [string, Reply][] {
  const keys = Math.ceil(length / NODE_ENTRIES);
  return [
    ["radix-tree-keys", integer(keys)],
    ["radix-tree-nodes", integer(keys === 0 ? 1 : keys * 2)],
  ];
}

/** XINFO's subcommands but HELP: each looks the key up first (the container has checked the arity). */
function xinfo(context: CommandContext, args: string[], sub: string): Reply | Promise<Reply> {
  const name = args[2] as string;
  const key = context.key(name);
  return orderedStep(context, () => {
    if (!holdsStream(context, key)) throw new RespError("ERR no such key");
    if (sub === "groups") return groupsReply(context, key);
    if (sub === "consumers") return consumersReply(context, key, name, args[3] as string);
    return streamReply(context, key, args);
  });
}

function groupsReply(context: CommandContext, key: string): Reply {
  const groups = context.store.streams.groups(storeKey(key), { binary: true });
  return array(
    groups.map((g) =>
      mapReply([
        ["name", bulk(g.name)],
        ["consumers", integer(g.consumers)],
        ["pending", integer(g.pending)],
        ["last-delivered-id", bulk(g.lastDeliveredId)],
        ["entries-read", integerOrNil(g.entriesRead)],
        ["lag", integerOrNil(g.lag)],
      ]),
    ),
  );
}

function consumersReply(context: CommandContext, key: string, name: string, group: string): Reply {
  const consumers = withGroup(
    () => noGroupForKey(name, group),
    () => context.store.streams.consumers(storeKey(key), storeName(group), { binary: true }),
  );
  return array(
    consumers.map((c) =>
      mapReply([
        ["name", bulk(c.name)],
        ["pending", integer(c.pending)],
        ["idle", integer(c.idleMs)],
      ]),
    ),
  );
}

async function streamReply(context: CommandContext, key: string, args: readonly string[]): Promise<Reply> {
  const options = args.length - 3;
  if (options === 0) return briefReply(context, key);
  if ((options !== 1 && options !== 3) || (args[3] as string).toLowerCase() !== "full") throw subcommandSyntaxError(args);
  let count = 10n;
  if (options === 3) {
    if ((args[4] as string).toLowerCase() !== "count") throw subcommandSyntaxError(args);
    count = longLongArg(args[5] as string);
    if (count < 0n) count = 10n;
  }
  const full = await context.store.streams.infoFull(storeKey(key), {
    count: count > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(count),
    binary: true,
  });
  const groups = full.groups.map((g) =>
    mapReply([
      ["name", bulk(g.name)],
      ["last-delivered-id", bulk(g.lastDeliveredId)],
      ["entries-read", integerOrNil(g.entriesRead)],
      ["lag", integerOrNil(g.lag)],
      ["pel-count", integer(g.pendingCount)],
      [
        "pending",
        array(g.pending.map((p) => array([bulk(p.id), bulk(p.consumer), integer(p.deliveredMs), integer(p.deliveries)]))),
      ],
      [
        "consumers",
        array(
          g.consumers.map((c) =>
            mapReply([
              ["name", bulk(c.name)],
              ["seen-time", integer(c.seenMs)],
              ["pel-count", integer(c.pendingCount)],
              ["pending", array(c.pending.map((p) => array([bulk(p.id), integer(p.deliveredMs), integer(p.deliveries)])))],
            ]),
          ),
        ),
      ],
    ]),
  );
  return mapReply([
    ["length", integer(full.length)],
    ...radixTree(full.length),
    ["last-generated-id", bulk(full.lastGeneratedId)],
    ["max-deleted-entry-id", bulk(full.maxDeletedEntryId)],
    ["entries-added", integer(full.entriesAdded)],
    ["recorded-first-entry-id", bulk(full.recordedFirstEntryId)],
    ["entries", entriesReply(full.entries)],
    ["groups", array(groups)],
  ]);
}

async function briefReply(context: CommandContext, key: string): Promise<Reply> {
  const info = await context.store.streams.info(storeKey(key), { binary: true });
  return mapReply([
    ["length", integer(info.length)],
    ...radixTree(info.length),
    ["last-generated-id", bulk(info.lastGeneratedId)],
    ["max-deleted-entry-id", bulk(info.maxDeletedEntryId)],
    ["entries-added", integer(info.entriesAdded)],
    ["recorded-first-entry-id", bulk(info.recordedFirstEntryId)],
    ["groups", integer(info.groups)],
    ["first-entry", entryOrNil(info.firstEntry)],
    ["last-entry", entryOrNil(info.lastEntry)],
  ]);
}

function infoSubcommand(name: string, arity: number, summary: string): Subcommand {
  return {
    name,
    arity,
    flags: ["readonly"],
    categories: ["@read", "@stream", "@slow"],
    summary,
    run: (c, a) => xinfo(c, a, name),
  };
}

export const streamInfoCommands: CommandSpec[] = [
  containerCommand({ name: "xinfo", summary: "A container for stream introspection commands." }, [
    infoSubcommand("stream", -3, "Get information about a stream."),
    infoSubcommand("groups", 3, "List the consumer groups of a stream."),
    infoSubcommand("consumers", 4, "List the consumers in a consumer group."),
    {
      name: "help",
      arity: 2,
      flags: ["loading", "stale"],
      categories: ["@stream", "@slow"],
      summary: "Show helpful text about the different subcommands.",
      run: (_context, args) => helpReply(args[0] as string, XINFO_HELP),
    },
  ]),
];
