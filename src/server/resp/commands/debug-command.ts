/**
 * DEBUG (debug.c), the subcommands Redis's tests and clients use: SLEEP, SET-ACTIVE-EXPIRE,
 * LOADAOF (the store closed and opened again from its checkpoint and log), HELP. Redis's DEBUG is one command that checks its arguments itself, so a wrong count
 * answers `unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP.`
 *
 * DEBUG SLEEP pauses the calling connection only (its later commands wait behind it), not the
 * whole server as in Redis: other clients, other tenants' among them, go on being served.
 */
import type { CommandSpec } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { OK, type Reply, RespError } from "../reply.js";
import { helpReply } from "./subcommands.js";

const HELP = [
  "LOADAOF",
  "    Flush the AOF buffers on disk and reload the AOF in memory.",
  "SET-ACTIVE-EXPIRE <0|1>",
  "    Setting it to 0 disables expiring keys in background when they are not",
  "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
  "    default. (Logbook: accepted; its expiry sweeper keeps running.)",
  "SLEEP <seconds>",
  "    Stop the server for <seconds>. Decimals allowed. (Logbook: stops this connection only.)",
];

/** C's atof and atoi: the number at the start of the text, 0 when there is none. */
function leadingNumber(text: string): number {
  const value = Number.parseFloat(text);
  return Number.isFinite(value) ? value : 0;
}

function sleep(context: CommandContext, secondsText: string): Reply | Promise<Reply> {
  // Bounded like a blocking read: a connection waits no longer than blockMsMax.
  const ms = Math.min(Math.max(0, leadingNumber(secondsText) * 1000), context.host.settings.blockMsMax);
  if (ms === 0) return OK;
  return new Promise((resolve) => setTimeout(() => resolve(OK), ms));
}

function debug(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const sub = (args[1] as string).toLowerCase();
  if (sub === "help" && args.length === 2) return helpReply(args[0] as string, HELP);
  if (sub === "sleep" && args.length === 3) return sleep(context, args[2] as string);
  if (sub === "set-active-expire" && args.length === 3) {
    context.host.state.activeExpire = Math.trunc(leadingNumber(args[2] as string)) !== 0;
    return OK;
  }
  // Closes the store and opens it again from its checkpoint and log, as a restart would.
  if (sub === "loadaof" && args.length === 2) return context.host.reopenStore().then(() => OK);
  throw new RespError(
    `ERR unknown subcommand or wrong number of arguments for '${(args[1] as string).slice(0, 128)}'. Try ${(args[0] as string).toUpperCase()} HELP.`,
  );
}

export const debugCommand: CommandSpec = {
  name: "debug",
  arity: -2,
  flags: ["admin", "noscript", "loading", "stale"],
  categories: ["@admin", "@slow", "@dangerous"],
  summary: "A container for debugging commands",
  run: debug,
};
