/**
 * Stream commands (t_stream.c) on the store's streams (`store.streams`): XADD, XLEN, XRANGE,
 * XREVRANGE, XDEL, XTRIM and XSETID here; the reads that may block, the consumer groups and
 * XINFO in their own files. Arguments are checked as Redis 7.0 checks them, in its order and
 * with its texts (stream-args.ts); a write replies once the store has made it durable.
 */
import { STREAM_RANGE_COUNT_MAX } from "../../../store/index.js";
import { type CommandSpec, syntaxError, wrongArity } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulk, EMPTY_ARRAY, integer, NIL, NIL_ARRAY, OK, type Reply, RespError } from "../reply.js";
import {
  clampToNumber,
  fieldPairs,
  formatId,
  type Id,
  intervalBound,
  longLongArg,
  parseAddOrTrim,
  storeKey,
  strictId,
} from "./stream-args.js";
import { claimCommands } from "./stream-claims.js";
import { holdsStream, WRONGTYPE } from "./stream-errors.js";
import { groupCommands } from "./stream-groups.js";
import { streamInfoCommands } from "./stream-info.js";
import { orderedStep, streamWrite } from "./stream-order.js";
import { streamReadCommands } from "./stream-reads.js";
import { entriesReply } from "./stream-replies.js";

function xadd(context: CommandContext, args: string[]): Promise<Reply> {
  const parsed = parseAddOrTrim(args, true);
  const fieldsAt = parsed.idIndex + 1;
  const fieldArgs = args.length - fieldsAt;
  if (fieldArgs < 2 || fieldArgs % 2 === 1) throw wrongArity("xadd");
  const id = parsed.id;
  if (id?.seqGiven === true && id.ms === 0n && id.seq === 0n) {
    throw new RespError("ERR The ID specified in XADD must be greater than 0-0");
  }
  const key = context.key(args[1] as string);
  const fields = fieldPairs(args, fieldsAt);
  let bytes = key.length;
  for (let i = fieldsAt; i < args.length; i++) bytes += (args[i] as string).length;
  const options = {
    id: id === undefined ? "*" : id.seqGiven ? formatId(id) : `${id.ms}-*`,
    noMkStream: parsed.noMkStream,
    ...(parsed.trim === undefined ? {} : { trim: parsed.trim }),
  };
  return streamWrite(context, bytes, () => context.store.streams.add(storeKey(key), fields, options)).then((added) =>
    added === null ? NIL : bulk(added),
  );
}

function xrange(context: CommandContext, args: string[], reverse: boolean): Reply | Promise<Reply> {
  const start = intervalBound(args[reverse ? 3 : 2] as string, "start");
  const end = intervalBound(args[reverse ? 2 : 3] as string, "end");
  let count = -1n;
  for (let j = 4; j < args.length; j++) {
    if ((args[j] as string).toLowerCase() === "count" && j + 1 < args.length) {
      count = longLongArg(args[++j] as string);
      if (count < 0n) count = 0n;
    } else {
      throw syntaxError();
    }
  }
  const key = context.key(args[1] as string);
  return orderedStep(context, () => readRange(context, key, start, end, count, reverse));
}

async function readRange(context: CommandContext, key: string, start: Id, end: Id, count: bigint, reverse: boolean) {
  const { store } = context;
  if (!holdsStream(context, key)) return EMPTY_ARRAY;
  if (count === 0n) return NIL_ARRAY;
  // A range is bounded: a larger COUNT gets the ceiling's worth (read on from the last ID for
  // more); without COUNT, a range past the ceiling is refused rather than cut.
  const limit = count < 0n ? STREAM_RANGE_COUNT_MAX + 1 : Math.min(clampToNumber(count), STREAM_RANGE_COUNT_MAX);
  const entries = await store.streams.range(storeKey(key), {
    start: formatId(start),
    end: formatId(end),
    count: limit,
    reverse,
    binary: true,
  });
  if (count < 0n && entries.length > STREAM_RANGE_COUNT_MAX) {
    throw new RespError(`ERR the range holds more than ${STREAM_RANGE_COUNT_MAX} entries: give a COUNT`);
  }
  return entriesReply(entries);
}

/**
 * XDEL: Redis looks the key up before it reads the IDs, so on no key it answers 0 whatever
 * they are. The store decides when it applies the delete (a pipelined XADD before it may not
 * be applied yet); only a bad ID makes this look the key up first, in the view that includes
 * the writes already sequenced.
 */
function xdel(context: CommandContext, args: string[]): Promise<Reply> {
  const key = context.key(args[1] as string);
  const bytes = key.length + 16 * (args.length - 2);
  return streamWrite(context, bytes, async () => {
    const ids = idsOrMissing(context, key, args.slice(2));
    return ids === undefined ? 0 : context.store.streams.delete(storeKey(key), ids);
  }).then(integer);
}

/** The IDs as the store takes them, or undefined when one is bad and there is no stream at `key` to complain about. */
export function idsOrMissing(context: CommandContext, key: string, texts: readonly string[]): string[] | undefined {
  try {
    return texts.map((text) => formatId(strictId(text)));
  } catch (error) {
    const kind = context.store.keyspace.kindOf(key, "latest");
    if (kind === undefined) return undefined;
    if (kind === "string") throw new RespError(WRONGTYPE);
    throw error;
  }
}

function xtrim(context: CommandContext, args: string[]): Promise<Reply> {
  const trim = parseAddOrTrim(args, false).trim ?? {};
  const key = context.key(args[1] as string);
  return streamWrite(context, key.length, () => context.store.streams.trim(storeKey(key), trim)).then(integer);
}

function xsetid(context: CommandContext, args: string[]): Promise<Reply> {
  const id = strictId(args[2] as string);
  let entriesAdded: bigint | undefined;
  let maxDeletedId: Id | undefined;
  for (let i = 3; i < args.length; i += 2) {
    const option = (args[i] as string).toLowerCase();
    const more = i + 1 < args.length;
    if (option === "entriesadded" && more) {
      entriesAdded = longLongArg(args[i + 1] as string);
      if (entriesAdded < 0n) throw new RespError("ERR entries_added must be positive");
    } else if (option === "maxdeletedid" && more) {
      maxDeletedId = strictId(args[i + 1] as string);
      if (id.ms < maxDeletedId.ms || (id.ms === maxDeletedId.ms && id.seq < maxDeletedId.seq)) {
        throw new RespError("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
      }
    } else {
      throw syntaxError();
    }
  }
  const key = context.key(args[1] as string);
  const options = {
    ...(entriesAdded === undefined ? {} : { entriesAdded: clampToNumber(entriesAdded) }),
    // Redis leaves the largest deleted ID as it was when given 0-0.
    ...(maxDeletedId === undefined || (maxDeletedId.ms === 0n && maxDeletedId.seq === 0n)
      ? {}
      : { maxDeletedId: formatId(maxDeletedId) }),
  };
  return streamWrite(context, key.length, () => context.store.streams.setId(storeKey(key), formatId(id), options)).then(() => OK);
}

const WRITE_FAST = ["write", "denyoom", "fast"] as const;
const ONE_KEY = { first: 1, last: 1, step: 1 };

const entryCommands: CommandSpec[] = [
  {
    name: "xadd",
    arity: -5,
    flags: WRITE_FAST,
    keys: ONE_KEY,
    categories: ["@write", "@stream", "@fast"],
    summary: "Appends a new entry to a stream.",
    run: xadd,
  },
  {
    name: "xlen",
    arity: 2,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    categories: ["@read", "@stream", "@fast"],
    summary: "Return the number of entries in a stream.",
    run(context, args) {
      const key = context.key(args[1] as string);
      return orderedStep(context, () => integer(context.store.streams.length(storeKey(key))));
    },
  },
  {
    name: "xrange",
    arity: -4,
    flags: ["readonly"],
    keys: ONE_KEY,
    categories: ["@read", "@stream", "@slow"],
    summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval.",
    run: (context, args) => xrange(context, args, false),
  },
  {
    name: "xrevrange",
    arity: -4,
    flags: ["readonly"],
    keys: ONE_KEY,
    categories: ["@read", "@stream", "@slow"],
    summary: "Return a range of elements in a stream, in reverse order.",
    run: (context, args) => xrange(context, args, true),
  },
  {
    name: "xdel",
    arity: -3,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@stream", "@fast"],
    summary: "Removes the specified entries from the stream.",
    run: xdel,
  },
  {
    name: "xtrim",
    arity: -4,
    flags: ["write"],
    keys: ONE_KEY,
    categories: ["@write", "@stream", "@slow"],
    summary: "Trims the stream to (approximately if '~' is passed) a certain size.",
    run: xtrim,
  },
  {
    name: "xsetid",
    arity: -3,
    flags: WRITE_FAST,
    keys: ONE_KEY,
    categories: ["@write", "@stream", "@fast"],
    summary: "Sets a stream's last ID, entries-added counter and largest deleted ID.",
    run: xsetid,
  },
];

export const streamCommands: CommandSpec[] = [
  ...entryCommands,
  ...streamReadCommands,
  ...groupCommands,
  ...claimCommands,
  ...streamInfoCommands,
];
