/**
 * XCLAIM and XAUTOCLAIM (t_stream.c): pending entries change owner. Their arguments are read in
 * Redis 7.0's order; NOGROUP names the key as the client named it.
 */
import type { ClaimOptions, Name } from "../../../store/index.js";
import { type CommandSpec, syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulk, bulkArray, type Reply, RespError } from "../reply.js";
import {
  clampToNumber,
  formatId,
  intervalBound,
  longLongArg,
  parseLongLong,
  storeKey,
  storeName,
  strictId,
} from "./stream-args.js";
import { noGroupAs, noKeyOrGroup, WRONGTYPE } from "./stream-errors.js";
import { streamWrite } from "./stream-order.js";
import { entriesReply } from "./stream-replies.js";

/** XCLAIM's options after its IDs: the IDs end at the first argument that is not one. */
function claimOptions(args: readonly string[], from: number): ClaimOptions {
  const options: ClaimOptions = {};
  for (let j = from; j < args.length; j++) {
    const more = j < args.length - 1;
    const option = (args[j] as string).toLowerCase();
    if (option === "force") options.force = true;
    else if (option === "justid") options.justId = true;
    else if (option === "idle" && more) {
      const idle = longLongArg(args[++j] as string, "ERR Invalid IDLE option argument for XCLAIM");
      delete options.timeMs;
      options.idleMs = idle < 0n ? 0 : clampToNumber(idle);
    } else if (option === "time" && more) {
      const time = longLongArg(args[++j] as string, "ERR Invalid TIME option argument for XCLAIM");
      delete options.idleMs;
      // A time before the epoch is as bogus as one in the future: Redis takes now for both.
      if (time >= 0n) options.timeMs = clampToNumber(time);
      else delete options.timeMs;
    } else if (option === "retrycount" && more) {
      const retries = longLongArg(args[++j] as string, "ERR Invalid RETRYCOUNT option argument for XCLAIM");
      if (retries >= 0n) options.retryCount = clampToNumber(retries);
      else delete options.retryCount;
    } else if (option === "lastid" && more) {
      options.lastId = formatId(strictId(args[++j] as string));
    } else {
      throw new RespError(`ERR Unrecognized XCLAIM option '${args[j]}'`);
    }
  }
  return options;
}

interface ClaimArgs {
  minIdleMs: number;
  ids: string[];
  options: ClaimOptions;
}

/** XCLAIM's arguments after the consumer: the minimum idle time, the IDs (up to the first that is not one), the options. */
function claimArgs(args: readonly string[]): ClaimArgs {
  const minIdle = longLongArg(args[4] as string, "ERR Invalid min-idle-time argument for XCLAIM");
  const ids: string[] = [];
  let j = 5;
  for (; j < args.length; j++) {
    try {
      ids.push(formatId(strictId(args[j] as string)));
    } catch {
      break;
    }
  }
  return { minIdleMs: minIdle < 0n ? 0 : clampToNumber(minIdle), ids, options: { ...claimOptions(args, j), binary: true } };
}

/**
 * XCLAIM. Redis answers NOGROUP before it reads the arguments after the consumer; the store
 * decides NOGROUP when it applies the claim, so a bad argument makes this look the key and
 * group up first.
 */
function xclaim(context: CommandContext, args: string[]): Promise<Reply> {
  const name = args[1] as string;
  const group = args[2] as string;
  const key = context.key(name);
  return streamWrite(context, key.length + group.length + 16 * (args.length - 5), async () => {
    let claim: ClaimArgs;
    try {
      claim = claimArgs(args);
    } catch (error) {
      const kind = context.store.keyspace.kindOf(key, "latest");
      if (kind === "string") throw new RespError(WRONGTYPE);
      if (kind === undefined || !context.store.streams.hasGroup(storeKey(key), storeName(group))) {
        throw noKeyOrGroup(name, group);
      }
      throw error;
    }
    const claimed = await context.store.streams
      .claim(storeKey(key), storeName(group), storeName(args[3] as string), claim.minIdleMs, claim.ids, claim.options)
      .catch(noGroupAs(noKeyOrGroup(name, group)));
    return claim.options.justId === true ? bulkArray(claimed.entries.map((e) => e.id)) : entriesReply(claimed.entries);
  });
}

function xautoclaim(context: CommandContext, args: string[]): Promise<Reply> {
  const minIdle = longLongArg(args[4] as string, "ERR Invalid min-idle-time argument for XAUTOCLAIM");
  const start = intervalBound(args[5] as string, "start");
  let count = 100;
  let justId = false;
  for (let j = 6; j < args.length; j++) {
    const option = (args[j] as string).toLowerCase();
    if (option === "count" && j < args.length - 1) {
      const value = parseLongLong(args[++j] as string);
      // Redis bounds COUNT so that COUNT × 10 attempts fit a long.
      if (value === undefined || value < 1n || value > 576460752303423487n) throw new RespError("ERR COUNT must be > 0");
      count = clampToNumber(value);
    } else if (option === "justid") {
      justId = true;
    } else {
      throw syntaxError();
    }
  }
  const name = args[1] as string;
  const group = args[2] as string;
  const key = context.key(name);
  return streamWrite(context, key.length + group.length, async () => {
    const consumer: Name = storeName(args[3] as string);
    const minIdleMs = minIdle < 0n ? 0 : clampToNumber(minIdle);
    const claimed = await context.store.streams
      .autoClaim(storeKey(key), storeName(group), consumer, minIdleMs, formatId(start), { count, justId, binary: true })
      .catch(noGroupAs(noKeyOrGroup(name, group)));
    const entries = justId ? bulkArray(claimed.entries.map((e) => e.id)) : entriesReply(claimed.entries);
    return `*3\r\n${bulk(claimed.nextId)}${entries}${bulkArray(claimed.deleted)}`;
  });
}

const ONE_KEY = { first: 1, last: 1, step: 1 };

export const claimCommands: CommandSpec[] = [
  {
    name: "xclaim",
    arity: -6,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@stream", "@fast"],
    summary: "Changes (or acquires) ownership of a message in a consumer group, as if it was delivered to the consumer.",
    run: xclaim,
  },
  {
    name: "xautoclaim",
    arity: -6,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@stream", "@fast"],
    summary: "Changes (or acquires) ownership of pending messages idle long enough, scanning the PEL from a start ID.",
    run: xautoclaim,
  },
];
