/**
 * Runs one command of a connection: finds it, checks its arity and the client's right to run it,
 * queues it inside MULTI, counts it (commandstats, errorstats, and the observer's metrics, log
 * line and trace), and turns whatever it throws or rejects with into an error reply. Never throws.
 *
 * The checks come in Redis's order: the command exists, its arity, authentication, then the
 * principal's permission (a read-only token runs no command flagged `write`, refused before it
 * runs or is queued, as Redis's ACLs refuse).
 */
import { performance } from "node:perf_hooks";
import { LogbookError } from "../../errors.js";
import { arityHolds, type CommandSpec, unknownCommand, wrongArity } from "./command-spec.js";
import type { CommandContext } from "./context.js";
import { asRespError } from "./errors.js";
import { errorReply, QUEUED, type Reply, RespError } from "./reply.js";
import { QUEUED_COMMANDS_MAX } from "./session.js";
import type { CommandStat, TraceOfCommand } from "./stats.js";

/** What may run inside MULTI without being queued. */
const TRANSACTION_CONTROL = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

export function dispatch(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const { host, session } = context;
  const spec = host.commands.find(args[0] as string);
  host.stats.commandsProcessed++;
  const refusal = refusalOf(context, spec, args);
  if (refusal !== undefined) {
    if (session.inMulti) session.queueFailed = true;
    host.stats.rejected(spec?.name, session, refusal.prefix);
    return fail(context, refusal);
  }
  const command = spec as CommandSpec;
  session.lastCommand = command.name;
  if (session.inMulti && !TRANSACTION_CONTROL.has(command.name)) return queue(context, command, args);
  return run(context, command, args);
}

/** Why the command may not run at all, or undefined when it may. */
function refusalOf(context: CommandContext, spec: CommandSpec | undefined, args: string[]): RespError | undefined {
  if (spec === undefined) return unknownCommand(args);
  if (!arityHolds(spec.arity, args.length)) return wrongArity(spec.name);
  const principal = context.session.principal;
  if (principal === undefined && !spec.flags.includes("no_auth")) return new RespError("NOAUTH Authentication required.");
  if (principal?.access === "read" && spec.flags.includes("write")) {
    context.host.stats.refused("no_permission");
    return new RespError(`NOPERM this user has no permissions to run the '${spec.name}' command`);
  }
  return undefined;
}

/**
 * Bytes of the arguments queued in each open transaction, keyed by its queue (MULTI makes a new
 * one, so a finished transaction's count goes with its queue).
 */
const queuedBytes = new WeakMap<string[][], number>();

function queue(context: CommandContext, spec: CommandSpec, args: string[]): Reply {
  const session = context.session;
  const queued = session.queued as string[][];
  if (spec.flags.includes("no_multi")) {
    session.queueFailed = true;
    return fail(context, new RespError(`ERR Command not allowed inside a transaction`));
  }
  if (queued.length >= QUEUED_COMMANDS_MAX) {
    session.queueFailed = true;
    return fail(context, new RespError(`ERR a transaction holds at most ${QUEUED_COMMANDS_MAX} commands`));
  }
  // Queued commands are answered (QUEUED) but held until EXEC: their bytes have a ceiling of
  // their own, the pipeline's, or a client could hold any amount of memory in one MULTI.
  let bytes = queuedBytes.get(queued) ?? 0;
  for (const arg of args) bytes += arg.length;
  const bytesMax = context.host.settings.pipelineBytesMax;
  if (bytes > bytesMax) {
    session.queueFailed = true;
    return fail(context, new RespError(`ERR a transaction holds at most ${bytesMax} bytes of commands`));
  }
  queuedBytes.set(queued, bytes);
  queued.push(args);
  return QUEUED;
}

/** Runs a command that passed the checks (EXEC runs its queued ones through here too). */
export function run(context: CommandContext, spec: CommandSpec, args: string[]): Reply | Promise<Reply> {
  const stats = context.host.stats;
  const stat = stats.command(spec.name);
  const trace = stats.started(spec.name);
  const started = performance.now();
  let result: Reply | Promise<Reply>;
  try {
    result = spec.run(context, args);
  } catch (error) {
    return failed(context, spec, stat, started, trace, error);
  }
  if (typeof result === "string") {
    stats.finished(stat, spec.name, context.session, performance.now() - started, undefined, trace);
    return result;
  }
  return result.then(
    (reply) => {
      stats.finished(stat, spec.name, context.session, performance.now() - started, undefined, trace);
      return reply;
    },
    (error: unknown) => failed(context, spec, stat, started, trace, error),
  );
}

function failed(
  context: CommandContext,
  spec: CommandSpec,
  stat: CommandStat,
  started: number,
  trace: TraceOfCommand,
  error: unknown,
): Reply {
  const stats = context.host.stats;
  const reply = asRespError(error);
  if (error instanceof LogbookError && error.code === "LOGBOOK_OVERLOADED") stats.refused("overloaded");
  stats.finished(stat, spec.name, context.session, performance.now() - started, reply.prefix, trace);
  return fail(context, reply);
}

function fail(context: CommandContext, error: RespError): Reply {
  context.host.stats.error(error.prefix);
  return errorReply(error.message);
}

/** Whether a command changes data (its reply must wait for durability; reads after it wait for it). */
export function isWrite(spec: CommandSpec | undefined): boolean {
  return spec?.flags.includes("write") === true;
}

/** Whether a command may wait for other clients (XREAD/XREADGROUP … BLOCK): the commands behind it wait for it. */
export function isBlocking(spec: CommandSpec | undefined): boolean {
  return spec?.flags.includes("blocking") === true;
}
