/**
 * MULTI, EXEC, DISCARD, WATCH, UNWATCH (multi.c). EXEC runs the queued commands in one
 * synchronous step over a Transaction (transaction.ts), so their writes are one log record and
 * nothing else comes between them; WATCH remembers versions and EXEC aborts (a nil reply) when
 * any changed.
 */
import { type CommandSpec, unknownCommand } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { run } from "../dispatch.js";
import { asRespError } from "../errors.js";
import { array, errorReply, NIL_ARRAY, OK, type Reply, RespError } from "../reply.js";
import { WATCHED_KEYS_MAX } from "../session.js";
import { Transaction } from "../transaction.js";

function exec(context: CommandContext): Reply | Promise<Reply> {
  const { session, store, host } = context;
  if (!session.inMulti) throw new RespError("ERR EXEC without MULTI");
  if (session.queueFailed) {
    session.endTransaction();
    throw new RespError("EXECABORT Transaction discarded because of previous errors.");
  }
  const queued = session.queued as string[][];
  const watched = [...session.watched];
  session.endTransaction();
  for (const [key, version] of watched) if (store.keyspace.versionOf(key) !== version) return NIL_ARRAY;
  const transaction = new Transaction(store, () => context.now());
  const replies: (Reply | Promise<Reply>)[] = [];
  context.transaction = transaction;
  try {
    for (const args of queued) {
      const spec = host.commands.find(args[0] as string);
      replies.push(spec === undefined ? errorReply(unknownCommand(args).message) : run(context, spec, args));
    }
  } finally {
    context.transaction = undefined;
  }
  transaction.commit(watched);
  if (replies.every((reply) => typeof reply === "string")) return array(replies as Reply[]);
  return Promise.all(
    replies.map((reply) => (typeof reply === "string" ? reply : reply.catch((e) => errorReply(asRespError(e).message)))),
  ).then(array);
}

export const transactionCommands: CommandSpec[] = [
  {
    name: "multi",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
    categories: ["@fast", "@transaction"],
    summary: "Starts a transaction.",
    run(context) {
      if (context.session.inMulti) throw new RespError("ERR MULTI calls can not be nested");
      context.session.queued = [];
      return OK;
    },
  },
  {
    name: "exec",
    arity: 1,
    flags: ["noscript", "loading", "stale", "skip_monitor"],
    categories: ["@slow", "@transaction"],
    summary: "Executes all commands in a transaction, as one atomic log record.",
    run: exec,
  },
  {
    name: "discard",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
    categories: ["@fast", "@transaction"],
    summary: "Discards a transaction.",
    run(context) {
      if (!context.session.inMulti) throw new RespError("ERR DISCARD without MULTI");
      context.session.endTransaction();
      return OK;
    },
  },
  {
    name: "watch",
    arity: -2,
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
    keys: { first: 1, last: -1, step: 1 },
    categories: ["@fast", "@transaction"],
    summary: "Monitors changes to keys to determine the execution of a transaction.",
    run(context, args) {
      const { session, store } = context;
      if (session.inMulti) throw new RespError("ERR WATCH inside MULTI is not allowed");
      if (session.watched.size + args.length - 1 > WATCHED_KEYS_MAX) {
        throw new RespError(`ERR a client watches at most ${WATCHED_KEYS_MAX} keys`);
      }
      for (let i = 1; i < args.length; i++) {
        const key = context.key(args[i] as string);
        if (!session.watched.has(key)) session.watched.set(key, store.keyspace.versionOf(key));
      }
      return OK;
    },
  },
  {
    name: "unwatch",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "allow_busy"],
    categories: ["@fast", "@transaction"],
    summary: "Forgets about all watched keys.",
    run(context) {
      context.session.watched.clear();
      return OK;
    },
  },
];
