/**
 * Server commands (server.c, rdb.c, aof.c, db.c): TIME, LASTSAVE, SAVE, BGSAVE, BGREWRITEAOF,
 * SHUTDOWN, and the list of every server-family command (INFO, CONFIG, CLIENT, COMMAND, DEBUG
 * live in their own files).
 *
 * Saves: Logbook's log is the always-on AOF and its checkpoint is both the RDB file and the AOF
 * rewrite, so SAVE, BGSAVE and BGREWRITEAOF each take a store checkpoint. None of them is needed
 * for durability: every acknowledged write is already in the log.
 */
import { type CommandSpec, syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulkArray, integer, OK, type Reply, RespError, simple } from "../reply.js";
import { clientCommand } from "./client-command.js";
import { commandCommand } from "./command-command.js";
import { configCommand } from "./config-command.js";
import { debugCommand } from "./debug-command.js";
import { infoCommand } from "./info.js";
import { lastSaveMs, nowMicros } from "./info-sections.js";

const SAVE_IN_PROGRESS = "ERR Background save already in progress";

function checkpointRunning(context: CommandContext): boolean {
  return context.store.stats().checkpointRunning;
}

/** TIME: seconds and microseconds since the epoch, as bulk strings. */
function time(): Reply {
  const micros = nowMicros();
  return bulkArray([String(Math.floor(micros / 1e6)), String(micros % 1e6)]);
}

function save(context: CommandContext): Promise<Reply> | Reply {
  if (checkpointRunning(context)) throw new RespError(SAVE_IN_PROGRESS);
  return context.host.state.checkpoint(context.store).then(() => OK);
}

function bgsave(context: CommandContext, args: string[]): Reply {
  if (args.length > 2 || (args.length === 2 && (args[1] as string).toLowerCase() !== "schedule")) throw syntaxError();
  if (checkpointRunning(context)) throw new RespError(SAVE_IN_PROGRESS);
  context.host.state.startCheckpoint(context.store);
  return simple("Background saving started");
}

/** BGREWRITEAOF: a checkpoint; while one runs, the next is queued behind it. */
function bgrewriteaof(context: CommandContext): Reply {
  const running = checkpointRunning(context);
  context.host.state.startCheckpoint(context.store);
  context.host.state.aofRewrites++;
  return simple(`Background append only file rewriting ${running ? "scheduled" : "started"}`);
}

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: stops the whole server (every tenant's
 * connections, HTTP too), as SIGTERM does: it drains, checkpoints when configured, and exits.
 * The flags are checked as Redis checks them and change nothing: every acknowledged write is
 * already durable. As in Redis, a successful SHUTDOWN sends no reply: the connection closes.
 */
function shutdown(context: CommandContext, args: string[]): Reply {
  const flags = new Set(args.slice(1).map((arg) => arg.toLowerCase()));
  for (const flag of flags) if (!["nosave", "save", "now", "force", "abort"].includes(flag)) throw syntaxError();
  if ((flags.has("abort") && flags.size > 1) || (flags.has("nosave") && flags.has("save"))) throw syntaxError();
  if (flags.has("abort")) throw new RespError("ERR No shutdown in progress.");
  if (context.session.principal?.access === "read") {
    throw new RespError("NOPERM this user has no permissions to run this command (its token is read-only)");
  }
  context.session.closing = true;
  // After this command's (empty) reply is queued: the server's close then finds the connection done.
  queueMicrotask(() => context.host.shutdown());
  return "";
}

export const serverCommands: CommandSpec[] = [
  {
    name: "time",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    categories: ["@fast"],
    summary: "Return the current server time",
    run: time,
  },
  {
    name: "lastsave",
    arity: 1,
    flags: ["loading", "stale", "fast"],
    categories: ["@admin", "@fast", "@dangerous"],
    summary: "Get the UNIX time stamp of the last checkpoint",
    run: (context) => integer(Math.floor(lastSaveMs(context.host) / 1000)),
  },
  {
    name: "save",
    arity: 1,
    flags: ["admin", "noscript", "no_multi"],
    categories: ["@admin", "@slow", "@dangerous"],
    summary: "Take a store checkpoint and wait for it",
    run: save,
  },
  {
    name: "bgsave",
    arity: -1,
    flags: ["admin", "noscript"],
    categories: ["@admin", "@slow", "@dangerous"],
    summary: "Take a store checkpoint in the background",
    run: bgsave,
  },
  {
    name: "bgrewriteaof",
    arity: 1,
    flags: ["admin", "noscript"],
    categories: ["@admin", "@slow", "@dangerous"],
    summary: "Take a store checkpoint in the background (the log's rewrite)",
    run: bgrewriteaof,
  },
  {
    name: "shutdown",
    arity: -1,
    flags: ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
    categories: ["@admin", "@slow", "@dangerous"],
    summary: "Stop the whole Logbook server (it drains and checkpoints first)",
    run: shutdown,
  },
  infoCommand,
  configCommand,
  clientCommand,
  commandCommand,
  debugCommand,
];
