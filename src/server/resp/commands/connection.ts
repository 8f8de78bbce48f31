/**
 * Connection commands: PING, ECHO, QUIT, SELECT, AUTH, HELLO, RESET (networking.c, server.c).
 *
 * The endpoint speaks RESP2 only: `HELLO 3` answers NOPROTO, and clients that try RESP3 first
 * (ioredis 6, node-redis with RESP 3) fall back to RESP2 on it. `AUTH token` and
 * `AUTH tenant token` sign in as the token's tenant; the username `default` names any tenant.
 */
import type { Principal } from "../../auth.js";
import { type CommandSpec, syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { array, bulk, integer, OK, PONG, RespError, simple } from "../reply.js";
import type { Session } from "../session.js";
import { parseLongLong } from "./long-long.js";

/** The version HELLO and INFO report: the Redis release whose behaviour the endpoint follows. */
export const REDIS_VERSION = "7.0.15";
const WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled.";

/** AUTH's check: `username` undefined for the one-argument form. */
function authenticate(context: CommandContext, username: string | undefined, token: string): void {
  const { host, session } = context;
  if (!host.authenticator.enabled) {
    // As Redis without requirepass: the default user has no password, so any password signs in as it.
    if (username === undefined) {
      throw new RespError(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      );
    }
    if (username !== "default") throw new RespError(WRONGPASS);
    return;
  }
  let principal: Principal;
  try {
    // A token never holds white space: the header parser below would trim it, AUTH must not.
    if (/\s/.test(token) || token.length === 0) throw new Error("not a token");
    principal = host.authenticator.authenticate(`Bearer ${token}`);
  } catch {
    host.stats.refused("auth_failed");
    throw new RespError(WRONGPASS);
  }
  // `AUTH tenant token`: the username must name the token's tenant ("default" names any).
  if (username !== undefined && username !== "default" && username !== principal.tenant) {
    host.stats.refused("auth_failed");
    throw new RespError(WRONGPASS);
  }
  session.signIn(principal);
}

/**
 * CLIENT SETNAME's and HELLO SETNAME's check: printable ASCII without spaces, so CLIENT LIST
 * stays split by spaces. An empty name removes the name.
 */
export function setClientName(session: Session, name: string): void {
  if (!/^[!-~]*$/.test(name)) {
    throw new RespError("ERR Client names cannot contain spaces, newlines or special characters.");
  }
  session.name = name;
}

/** HELLO [protover [AUTH username password] [SETNAME name]] */
function hello(context: CommandContext, args: string[]): string {
  const { session } = context;
  let next = 1;
  if (args.length >= 2) {
    const version = parseLongLong(args[1] as string);
    if (version === undefined) throw new RespError("ERR Protocol version is not an integer or out of range");
    if (version === 3) throw new RespError("NOPROTO sorry, this protocol version is not supported.");
    if (version !== 2) throw new RespError("NOPROTO unsupported protocol version");
    next = 2;
  }
  for (let j = next; j < args.length; j++) {
    const option = (args[j] as string).toLowerCase();
    const more = args.length - 1 - j;
    if (option === "auth" && more >= 2) {
      authenticate(context, args[j + 1], args[j + 2] as string);
      j += 2;
    } else if (option === "setname" && more >= 1) {
      setClientName(session, args[j + 1] as string);
      j += 1;
    } else {
      throw new RespError(`ERR Syntax error in HELLO option '${args[j]}'`);
    }
  }
  if (!session.authenticated) {
    throw new RespError(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  // RESP2 has no map type: Redis sends the map as a flat array of names and values.
  return array([
    bulk("server"),
    bulk("redis"),
    bulk("version"),
    bulk(REDIS_VERSION),
    bulk("proto"),
    integer(2),
    bulk("id"),
    integer(session.id),
    bulk("mode"),
    bulk("standalone"),
    bulk("role"),
    bulk("master"),
    bulk("modules"),
    array([]),
  ]);
}

/** RESET: as a new connection: out of MULTI, nothing watched, no name, and signed out when the server has tokens. */
function reset(context: CommandContext): string {
  const { session, host } = context;
  session.endTransaction();
  session.name = "";
  if (host.authenticator.enabled) session.signOut();
  return simple("RESET");
}

export const connectionCommands: CommandSpec[] = [
  {
    name: "ping",
    arity: -1,
    flags: ["fast"],
    categories: ["@fast", "@connection"],
    summary: "Ping the server",
    run(_context, args) {
      if (args.length > 2) throw new RespError("ERR wrong number of arguments for 'ping' command");
      return args.length === 2 ? bulk(args[1] as string) : PONG;
    },
  },
  {
    name: "echo",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    categories: ["@fast", "@connection"],
    summary: "Echo the given string",
    run: (_context, args) => bulk(args[1] as string),
  },
  {
    name: "quit",
    arity: -1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    categories: ["@fast", "@connection"],
    summary: "Close the connection",
    run(context) {
      context.session.closing = true;
      return OK;
    },
  },
  {
    name: "select",
    arity: 2,
    flags: ["loading", "stale", "fast"],
    categories: ["@fast", "@connection"],
    summary: "Change the selected database for the current connection (Logbook has one: 0)",
    run(_context, args) {
      const index = parseLongLong(args[1] as string);
      if (index === undefined) throw new RespError("ERR value is not an integer or out of range");
      if (index !== 0) throw new RespError("ERR DB index is out of range");
      return OK;
    },
  },
  {
    name: "auth",
    arity: -2,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    categories: ["@fast", "@connection"],
    summary: "Authenticate to the server: AUTH token, or AUTH tenant token",
    run(context, args) {
      if (args.length > 3) throw syntaxError();
      authenticate(context, args.length === 3 ? args[1] : undefined, args[args.length - 1] as string);
      return OK;
    },
  },
  {
    name: "hello",
    arity: -1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    categories: ["@fast", "@connection"],
    summary: "Handshake with Redis (RESP2 only)",
    run: hello,
  },
  {
    name: "reset",
    arity: 1,
    flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
    categories: ["@fast", "@connection"],
    summary: "Reset the connection",
    run: reset,
  },
];
