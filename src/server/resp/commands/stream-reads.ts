/**
 * XREAD and XREADGROUP (t_stream.c xreadCommand), which may block: with BLOCK and nothing to
 * return, the client waits until a write to one of its keys brings something (BLOCK 0: for as
 * long as it takes), as Redis does. While it waits its session is marked blocked (INFO's
 * blocked_clients); at most `blockedClientsMax` clients wait at once, one more gets an error.
 * A client that disconnects stops waiting (the store's waiter goes with it). Inside MULTI a
 * read does not block: it answers at once, nil when there is nothing.
 *
 * A group read blocked on a key that is deleted or stops holding a stream, or whose group is
 * destroyed, gets Redis's UNBLOCKED or NOGROUP error once the store wakes it.
 */
import { isLogbookError } from "../../../errors.js";
import type { Key, StreamRead } from "../../../store/index.js";
import { type CommandSpec, syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import type { RespHost } from "../host.js";
import { NIL_ARRAY, type Reply, RespError } from "../reply.js";
import { clampToNumber, formatId, incrementId, longLongArg, storeKey, storeName, strictId } from "./stream-args.js";
import { holdsStream, noKeyOrGroupToRead } from "./stream-errors.js";
import { orderedStep } from "./stream-order.js";
import { streamPartReply } from "./stream-replies.js";

/** The longest wait a timer takes (setTimeout's bound); a longer BLOCK waits without a limit. */
const TIMER_MS_MAX = 2 ** 31 - 1;

interface ReadArgs {
  /** BLOCK's milliseconds (0: no limit); undefined without BLOCK. */
  blockMs: number | undefined;
  /** 0: no COUNT. */
  count: number;
  noAck: boolean;
  group: string | undefined;
  consumer: string | undefined;
  keys: string[];
  ids: string[];
}

function parseReadArgs(args: readonly string[], groupRead: boolean): ReadArgs {
  const read: ReadArgs = { blockMs: undefined, count: 0, noAck: false, group: undefined, consumer: undefined, keys: [], ids: [] };
  let streamsAt = 0;
  for (let i = 1; i < args.length; i++) {
    const more = args.length - i - 1;
    const option = (args[i] as string).toLowerCase();
    if (option === "block" && more > 0) {
      const timeout = longLongArg(args[++i] as string, "ERR timeout is not an integer or out of range");
      if (timeout < 0n) throw new RespError("ERR timeout is negative");
      read.blockMs = timeout > BigInt(TIMER_MS_MAX) ? 0 : Number(timeout);
    } else if (option === "count" && more > 0) {
      const count = longLongArg(args[++i] as string);
      read.count = count < 0n ? 0 : clampToNumber(count);
    } else if (option === "streams" && more > 0) {
      streamsAt = i + 1;
      if ((args.length - streamsAt) % 2 !== 0) {
        throw new RespError("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
      }
      break;
    } else if (option === "group" && more >= 2) {
      if (!groupRead) throw new RespError("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
      read.group = args[i + 1];
      read.consumer = args[i + 2];
      i += 2;
    } else if (option === "noack") {
      if (!groupRead) throw new RespError("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
      read.noAck = true;
    } else {
      throw syntaxError();
    }
  }
  if (streamsAt === 0) throw syntaxError();
  if (groupRead && read.group === undefined) throw new RespError("ERR Missing GROUP option for XREADGROUP");
  const half = (args.length - streamsAt) / 2;
  read.keys = args.slice(streamsAt, streamsAt + half);
  read.ids = args.slice(streamsAt + half);
  return read;
}

/**
 * The IDs as the store takes them, checked stream by stream in Redis's order: the key's type,
 * then (group reads) that the key and group exist, then the ID.
 */
function storeIds(context: CommandContext, read: ReadArgs): string[] {
  return read.ids.map((id, i) => {
    const name = read.keys[i] as string;
    const exists = holdsStream(context, context.key(name));
    if (read.group !== undefined) {
      if (!exists || !context.store.streams.hasGroup(storeKey(context.key(name)), storeName(read.group))) {
        throw noKeyOrGroupToRead(name, read.group);
      }
      if (id === "$") {
        throw new RespError(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        );
      }
      if (id === ">") return id;
    } else {
      if (id === ">") {
        throw new RespError(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        );
      }
      if (id === "$") return id;
      return formatId(strictId(id));
    }
    // A history read returns the pending entries after the ID, as XREAD does; the store's start
    // is inclusive. Redis marks `>` with the last possible ID, so that ID given reads as `>`.
    const after = incrementId(strictId(id));
    return after === undefined ? ">" : formatId(after);
  });
}

const blockedCounts = new WeakMap<RespHost, { count: number }>();

/**
 * What a blocking read passes the store: its wait (none inside MULTI), a signal that ends it
 * when the client leaves or one client too many would block, and the hook that marks the
 * session blocked while it waits.
 */
class Blocking {
  /** Aborted when the client leaves, or when one client too many would block. */
  private readonly controller = new AbortController();
  private refused = false;
  /** Whether the read has waited at least once. */
  waited = false;

  constructor(
    private readonly context: CommandContext,
    /** undefined: the read does not block (no BLOCK, or inside MULTI). */
    readonly blockMs: number | undefined,
  ) {
    if (blockMs !== undefined) context.session.disconnected.addEventListener("abort", this.leave, { once: true });
  }

  private readonly leave = (): void => this.controller.abort();

  /** Called once the read has settled. */
  readonly done = (): void => {
    this.context.session.disconnected.removeEventListener("abort", this.leave);
  };

  readonly onBlock = (blocked: boolean): void => {
    const { host, session } = this.context;
    let counts = blockedCounts.get(host);
    if (counts === undefined) blockedCounts.set(host, (counts = { count: 0 }));
    if (blocked) {
      if (counts.count >= host.settings.blockedClientsMax) {
        this.refused = true;
        this.controller.abort();
        return;
      }
      counts.count++;
      session.blocked = true;
      this.waited = true;
    } else if (session.blocked) {
      counts.count--;
      session.blocked = false;
    }
  };

  get options() {
    if (this.blockMs === undefined) return {};
    return { blockMs: this.blockMs, signal: this.controller.signal, onBlock: this.onBlock };
  }

  /** A read that ended by its signal: refused (too many blocked clients) or the client left. */
  aborted(error: unknown): Reply {
    if (!isLogbookError(error, "LOGBOOK_ABORTED")) throw error;
    if (this.refused) {
      throw new RespError(`ERR max number of blocked clients reached (${this.context.host.settings.blockedClientsMax})`);
    }
    return NIL_ARRAY;
  }
}

function readReply(results: StreamRead[] | null, names: Map<Key, string>): Reply {
  if (results === null || results.length === 0) return NIL_ARRAY;
  let out = `*${results.length}\r\n`;
  for (const result of results) out += streamPartReply(names.get(result.key) as string, result.entries);
  return out;
}

/** The [key, ID] pairs the store reads, and the name the client gave each key (for the reply). */
function storePairs(context: CommandContext, read: ReadArgs): { pairs: [Key, string][]; names: Map<Key, string> } {
  const ids = storeIds(context, read);
  const names = new Map<Key, string>();
  const pairs = read.keys.map((name, i): [Key, string] => {
    const key = storeKey(context.key(name));
    names.set(key, name);
    return [key, ids[i] as string];
  });
  return { pairs, names };
}

/** The wait a read may have: none inside MULTI, where Redis does not block. */
function waitOf(context: CommandContext, read: ReadArgs): number | undefined {
  return context.transaction === undefined ? read.blockMs : undefined;
}

function xread(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const read = parseReadArgs(args, false);
  const blockMs = waitOf(context, read);
  return orderedStep(context, () => {
    const { pairs, names } = storePairs(context, read);
    const blocking = new Blocking(context, blockMs);
    return context.store.streams
      .read(pairs, { count: read.count, binary: true, ...blocking.options })
      .then((results) => readReply(results, names), blocking.aborted.bind(blocking))
      .finally(blocking.done);
  });
}

function xreadgroup(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const read = parseReadArgs(args, true);
  const blockMs = waitOf(context, read);
  context.checkWritable();
  return orderedStep(context, () => {
    const { pairs, names } = storePairs(context, read);
    const blocking = new Blocking(context, blockMs);
    const options = { count: read.count, noAck: read.noAck, binary: true, ...blocking.options };
    const group = storeName(read.group as string);
    const consumer = storeName(read.consumer as string);
    const bytes = (read.group as string).length + (read.consumer as string).length;
    const reading = context.admit(bytes, () => context.store.streams.readGroup(group, consumer, pairs, options), false);
    return reading
      .then(
        (results) => readReply(results, names),
        (error: unknown) => {
          if (blocking.waited && (isLogbookError(error, "LOGBOOK_NO_GROUP") || isLogbookError(error, "LOGBOOK_WRONG_TYPE"))) {
            throw unblockedError(context, read);
          }
          if (isLogbookError(error, "LOGBOOK_NO_GROUP")) throw noKeyOrGroupToRead(read.keys[0] as string, read.group as string);
          return blocking.aborted(error);
        },
      )
      .finally(blocking.done);
  });
}

/** Redis's answer to a group read whose key or group went away while it waited. */
function unblockedError(context: CommandContext, read: ReadArgs): RespError {
  const gone = read.keys.some((name) => context.store.keyspace.kindOf(context.key(name)) !== "stream");
  return gone
    ? new RespError("UNBLOCKED the stream key no longer exists")
    : new RespError("NOGROUP the consumer group this client was blocked on no longer exists");
}

export const streamReadCommands: CommandSpec[] = [
  {
    name: "xread",
    arity: -4,
    flags: ["readonly", "blocking"],
    keys: { first: 0, last: 0, step: 0 },
    categories: ["@read", "@stream", "@slow", "@blocking"],
    summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller. Can block.",
    run: xread,
  },
  {
    name: "xreadgroup",
    arity: -7,
    flags: ["write", "blocking"],
    keys: { first: 0, last: 0, step: 0 },
    categories: ["@write", "@stream", "@slow", "@blocking"],
    summary:
      "Return new entries from a stream using a consumer group, or the history of a consumer's pending entries. Can block.",
    run: xreadgroup,
  },
];
