/**
 * Runs one command of a connection: finds it, checks its arity and the client's right to run it,
 * queues it inside MULTI, counts it (commandstats, errorstats), and turns whatever it throws or
 * rejects with into an error reply. Never throws.
 */
import { performance } from "node:perf_hooks";
import { arityHolds, type CommandSpec, unknownCommand, wrongArity } from "./command-spec.js";
import type { CommandContext } from "./context.js";
import { asRespError } from "./errors.js";
import { errorReply, QUEUED, type Reply, RespError } from "./reply.js";
import { QUEUED_COMMANDS_MAX } from "./session.js";

/** What may run inside MULTI without being queued. */
const TRANSACTION_CONTROL = new Set(["exec", "discard", "multi", "watch", "quit", "reset"]);

export function dispatch(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const { host, session } = context;
  const spec = host.commands.find(args[0] as string);
  const stats = host.stats;
  stats.commandsProcessed++;
  let refusal: RespError | undefined;
  if (spec === undefined) refusal = unknownCommand(args);
  else if (!arityHolds(spec.arity, args.length)) refusal = wrongArity(spec.name);
  else if (!session.authenticated && !spec.flags.includes("no_auth")) refusal = new RespError("NOAUTH Authentication required.");
  if (refusal !== undefined) {
    if (spec !== undefined) stats.command(spec.name).rejectedCalls++;
    if (session.inMulti) session.queueFailed = true;
    return fail(context, refusal);
  }
  const command = spec as CommandSpec;
  session.lastCommand = command.name;
  if (session.inMulti && !TRANSACTION_CONTROL.has(command.name)) return queue(context, command, args);
  return run(context, command, args);
}

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
  queued.push(args);
  return QUEUED;
}

/** Runs a command that passed the checks (EXEC runs its queued ones through here too). */
export function run(context: CommandContext, spec: CommandSpec, args: string[]): Reply | Promise<Reply> {
  const stat = context.host.stats.command(spec.name);
  const started = performance.now();
  let result: Reply | Promise<Reply>;
  try {
    result = spec.run(context, args);
  } catch (error) {
    stat.calls++;
    stat.failedCalls++;
    stat.usec += Math.round((performance.now() - started) * 1000);
    return fail(context, asRespError(error));
  }
  if (typeof result === "string") {
    stat.calls++;
    stat.usec += Math.round((performance.now() - started) * 1000);
    return result;
  }
  return result.then(
    (reply) => {
      stat.calls++;
      stat.usec += Math.round((performance.now() - started) * 1000);
      return reply;
    },
    (error: unknown) => {
      stat.calls++;
      stat.failedCalls++;
      stat.usec += Math.round((performance.now() - started) * 1000);
      return fail(context, asRespError(error));
    },
  );
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
