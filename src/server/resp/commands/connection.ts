/**
 * Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO.
 */
import type { Principal } from "../../auth.js";
import { type CommandSpec, syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulk, OK, PONG, RespError } from "../reply.js";

function authenticate(context: CommandContext, tenant: string | undefined, token: string): void {
  const { host, session } = context;
  if (!host.authenticator.enabled) {
    throw new RespError(
      "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    );
  }
  let principal: Principal;
  try {
    principal = host.authenticator.authenticate(`Bearer ${token}`);
  } catch {
    host.stats.refused("auth_failed");
    throw new RespError("WRONGPASS invalid username-password pair or user is disabled.");
  }
  // `AUTH tenant token`: the username must name the token's tenant ("default" names any).
  if (tenant !== undefined && tenant !== "default" && tenant !== principal.tenant) {
    host.stats.refused("auth_failed");
    throw new RespError("WRONGPASS invalid username-password pair or user is disabled.");
  }
  session.signIn(principal);
}

export const connectionCommands: CommandSpec[] = [
  {
    name: "ping",
    arity: -1,
    flags: ["fast"],
    categories: ["@fast", "@connection"],
    summary: "Returns the server's liveliness response.",
    run(_context, args) {
      if (args.length > 2) throw new RespError("ERR wrong number of arguments for 'ping' command");
      return args.length === 2 ? bulk(args[1] as string) : PONG;
    },
  },
  {
    name: "echo",
    arity: 2,
    flags: ["fast"],
    categories: ["@fast", "@connection"],
    summary: "Returns the given string.",
    run: (_context, args) => bulk(args[1] as string),
  },
  {
    name: "quit",
    arity: -1,
    flags: ["no_auth", "fast", "allow_busy"],
    categories: ["@fast", "@connection"],
    summary: "Closes the connection.",
    run(context) {
      context.session.closing = true;
      return OK;
    },
  },
  {
    name: "select",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    categories: ["@keyspace", "@fast"],
    summary: "Changes the selected database (Logbook has one: 0).",
    run(_context, args) {
      const index = Number(args[1]);
      if (!/^-?\d+$/.test(args[1] as string)) throw new RespError("ERR value is not an integer or out of range");
      if (index !== 0) throw new RespError("ERR DB index is out of range");
      return OK;
    },
  },
  {
    name: "auth",
    arity: -2,
    flags: ["no_auth", "noscript", "loading", "stale", "fast", "allow_busy"],
    categories: ["@fast", "@connection"],
    summary: "Authenticates the connection: AUTH token, or AUTH tenant token.",
    run(context, args) {
      if (args.length > 3) throw syntaxError();
      authenticate(context, args.length === 3 ? args[1] : undefined, args[args.length - 1] as string);
      return OK;
    },
  },
];
