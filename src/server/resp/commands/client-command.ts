/**
 * CLIENT (networking.c): the connection's id, name and library, and the list of connections.
 *
 * Tenants: CLIENT LIST, CLIENT KILL and CLIENT LIST ID see only the connections signed in as the
 * caller's tenant (with no tokens configured, every connection is the one open tenant), so one
 * tenant can neither see nor close another's connections.
 */
import type { CommandContext } from "../context.js";
import { bulk, integer, NIL, OK, type Reply, RespError } from "../reply.js";
import type { Session } from "../session.js";
import { setClientName } from "./connection.js";
import { parseLongLong } from "./long-long.js";
import { containerCommand, helpReply, type Subcommand } from "./subcommands.js";

const HELP = [
  "GETNAME",
  "    Return the name of the current connection.",
  "ID",
  "    Return the ID of the current connection.",
  "INFO",
  "    Return information about the current client connection.",
  "KILL <ip:port>",
  "    Kill connection made from <ip:port>.",
  "KILL <option> <value> [<option> <value> [...]]",
  "    Kill connections. Options are:",
  "    * ADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made from the specified address",
  "    * LADDR (<ip:port>|<unixsocket>:0)",
  "      Kill connections made to specified local address",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Kill connections by type.",
  "    * USER <username>",
  "      Kill connections authenticated by <username>.",
  "    * SKIPME (YES|NO)",
  "      Skip killing current connection (default: yes).",
  "LIST [options ...]",
  "    Return information about client connections. Options:",
  "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
  "      Return clients of specified type.",
  "REPLY (ON|OFF|SKIP)",
  "    Control the replies sent to the current connection (Logbook: ON only).",
  "SETNAME <name>",
  "    Assign the name <name> to the current connection.",
  "SETINFO <option> <value>",
  "    Set client meta attr. Options are:",
  "    * LIB-NAME: the client lib name.",
  "    * LIB-VER: the client lib version.",
  "NO-EVICT (ON|OFF)",
  "    Protect current client connection from eviction.",
  "NO-TOUCH (ON|OFF)",
  "    Will not touch LRU/LFU stats when this mode is on.",
];

/** Client types as CLIENT LIST TYPE and CLIENT KILL TYPE name them; every Logbook client is `normal`. */
const CLIENT_TYPES = new Set(["normal", "slave", "replica", "pubsub", "master"]);

/** The bytes of a command as a multibulk: what Redis's query buffer holds while it runs (CLIENT LIST's qbuf). */
function multibulkBytes(args: readonly string[]): number {
  let bytes = `*${args.length}\r\n`.length;
  for (const arg of args) bytes += `$${arg.length}\r\n`.length + arg.length + 2;
  return bytes;
}

/** One line of CLIENT LIST and CLIENT INFO, in Redis's field order; `running` is the caller's command. */
export function clientLine(session: Session, nowMs: number, running?: readonly string[]): string {
  let flags = "";
  if (session.inMulti) flags += "x";
  if (session.blocked) flags += "b";
  if (session.closing) flags += "c";
  if (session.noEvict) flags += "e";
  if (session.noTouch) flags += "T";
  const multi = session.inMulti ? (session.queued as string[][]).length : -1;
  const fields = [
    `id=${session.id}`,
    `addr=${session.address}`,
    `laddr=${session.localAddress}`,
    "fd=-1",
    `name=${session.name}`,
    `age=${Math.floor((nowMs - session.createdAt) / 1000)}`,
    `idle=${Math.floor((nowMs - session.lastInteraction) / 1000)}`,
    `flags=${flags === "" ? "N" : flags}`,
    "db=0 sub=0 psub=0 ssub=0",
    `multi=${multi}`,
    `qbuf=${running === undefined ? 0 : multibulkBytes(running)}`,
    "qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r",
    `cmd=${session.lastCommand}`,
    `user=${session.principal?.tenant ?? "default"}`,
    "redir=-1 resp=2",
    `lib-name=${session.libName}`,
    `lib-ver=${session.libVersion}`,
  ];
  return `${fields.join(" ")}\n`;
}

/** The connections the caller may see: its own tenant's (and itself, signed in or not). */
function visibleSessions(context: CommandContext): Session[] {
  const tenant = context.session.principal?.tenant;
  return [...context.host.sessions()].filter(
    (session) => session === context.session || (tenant !== undefined && session.principal?.tenant === tenant),
  );
}

function list(context: CommandContext, args: string[]): Reply {
  const now = Date.now();
  const line = (session: Session) => clientLine(session, now, session === context.session ? args : undefined);
  const option = args[2]?.toLowerCase();
  if (args.length === 4 && option === "type") {
    const type = (args[3] as string).toLowerCase();
    if (!CLIENT_TYPES.has(type)) throw new RespError(`ERR Unknown client type '${args[3]}'`);
    const sessions = type === "normal" ? visibleSessions(context) : [];
    return bulk(sessions.map(line).join(""));
  }
  if (args.length > 3 && option === "id") {
    const byId = new Map(visibleSessions(context).map((s) => [s.id, s]));
    let out = "";
    for (const text of args.slice(3)) {
      const id = parseLongLong(text);
      if (id === undefined) throw new RespError("ERR Invalid client ID");
      const session = byId.get(id);
      if (session !== undefined) out += line(session);
    }
    return bulk(out);
  }
  if (args.length !== 2) throw new RespError("ERR syntax error");
  return bulk(visibleSessions(context).map(line).join(""));
}

interface KillFilter {
  id?: number;
  addr?: string;
  laddr?: string;
  user?: string;
  type?: string;
  skipMe: boolean;
}

function parseKillFilter(context: CommandContext, args: string[]): KillFilter {
  // Old form: CLIENT KILL addr:port, which may kill the caller itself.
  if (args.length === 3) return { addr: args[2] as string, skipMe: false };
  const filter: KillFilter = { skipMe: true };
  for (let i = 2; i < args.length; i += 2) {
    const option = (args[i] as string).toLowerCase();
    const value = args[i + 1];
    if (value === undefined) throw new RespError("ERR syntax error");
    if (option === "id") {
      const id = parseLongLong(value);
      if (id === undefined || id < 1) throw new RespError("ERR client-id should be greater than 0");
      filter.id = id;
    } else if (option === "type") {
      if (!CLIENT_TYPES.has(value.toLowerCase())) throw new RespError(`ERR Unknown client type '${value}'`);
      filter.type = value.toLowerCase();
    } else if (option === "addr") filter.addr = value;
    else if (option === "laddr") filter.laddr = value;
    else if (option === "user") {
      // The caller knows of one user: its own tenant (`default` when the server has no tokens).
      if (value !== (context.session.principal?.tenant ?? "default")) throw new RespError(`ERR No such user '${value}'`);
      filter.user = value;
    } else if (option === "skipme") {
      const yes = value.toLowerCase();
      if (yes !== "yes" && yes !== "no") throw new RespError("ERR syntax error");
      filter.skipMe = yes === "yes";
    } else throw new RespError("ERR syntax error");
  }
  return filter;
}

function matches(session: Session, filter: KillFilter): boolean {
  if (filter.addr !== undefined && session.address !== filter.addr) return false;
  if (filter.laddr !== undefined && session.localAddress !== filter.laddr) return false;
  if (filter.type !== undefined && filter.type !== "normal") return false;
  if (filter.id !== undefined && session.id !== filter.id) return false;
  if (filter.user !== undefined && (session.principal?.tenant ?? "default") !== filter.user) return false;
  return true;
}

/** CLIENT KILL: the caller itself closes once this reply is written, as Redis does. */
function kill(context: CommandContext, args: string[]): Reply {
  const filter = parseKillFilter(context, args);
  let killed = 0;
  for (const session of visibleSessions(context)) {
    if (!matches(session, filter)) continue;
    if (session === context.session) {
      if (filter.skipMe) continue;
      session.closing = true;
    } else {
      context.host.killClient(session.id);
    }
    killed++;
  }
  if (args.length !== 3) return integer(killed);
  if (killed === 0) throw new RespError("ERR No such client");
  return OK;
}

function setInfo(context: CommandContext, args: string[]): Reply {
  const [, , attribute, value] = args as [string, string, string, string];
  const option = attribute.toLowerCase();
  if (option !== "lib-name" && option !== "lib-ver") throw new RespError(`ERR Unrecognized option '${attribute}'`);
  if (!/^[!-~]*$/.test(value)) {
    throw new RespError(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
  }
  if (option === "lib-name") context.session.libName = value;
  else context.session.libVersion = value;
  return OK;
}

/** ON or OFF of CLIENT NO-EVICT and NO-TOUCH. */
function onOff(value: string): boolean {
  const lower = value.toLowerCase();
  if (lower !== "on" && lower !== "off") throw new RespError("ERR syntax error");
  return lower === "on";
}

const CONNECTION = ["@slow", "@connection"];
const ADMIN = ["@admin", "@slow", "@dangerous", "@connection"];

const subcommands: Subcommand[] = [
  {
    name: "id",
    arity: 2,
    flags: ["noscript", "loading", "stale"],
    categories: CONNECTION,
    summary: "Returns the client ID for the current connection",
    run: (context) => integer(context.session.id),
  },
  {
    name: "setname",
    arity: 3,
    flags: ["noscript", "loading", "stale"],
    categories: CONNECTION,
    summary: "Set the current connection name",
    run(context, args) {
      setClientName(context.session, args[2] as string);
      return OK;
    },
  },
  {
    name: "getname",
    arity: 2,
    flags: ["noscript", "loading", "stale"],
    categories: CONNECTION,
    summary: "Get the current connection name",
    run: (context) => (context.session.name === "" ? NIL : bulk(context.session.name)),
  },
  {
    name: "setinfo",
    arity: 4,
    flags: ["noscript", "loading", "stale"],
    categories: CONNECTION,
    summary: "Set client or connection specific info (LIB-NAME, LIB-VER)",
    run: setInfo,
  },
  {
    name: "info",
    arity: 2,
    flags: ["noscript", "loading", "stale"],
    categories: CONNECTION,
    summary: "Returns information about the current client connection.",
    run: (context, args) => bulk(clientLine(context.session, Date.now(), args)),
  },
  {
    name: "list",
    arity: -2,
    flags: ["admin", "noscript", "loading", "stale"],
    categories: ADMIN,
    summary: "Get the list of client connections (of the caller's tenant)",
    run: list,
  },
  {
    name: "kill",
    arity: -3,
    flags: ["admin", "noscript", "loading", "stale"],
    categories: ADMIN,
    summary: "Kill the connection of a client (of the caller's tenant)",
    run: kill,
  },
  {
    name: "reply",
    arity: 3,
    flags: ["noscript", "loading", "stale"],
    categories: CONNECTION,
    summary: "Instruct the server whether to reply to commands (Logbook: ON only)",
    run(_context, args) {
      const mode = (args[2] as string).toLowerCase();
      if (mode === "on") return OK;
      if (mode === "off" || mode === "skip") {
        throw new RespError(`ERR CLIENT REPLY ${mode.toUpperCase()} is not supported: Logbook answers every command`);
      }
      throw new RespError("ERR syntax error");
    },
  },
  {
    name: "no-evict",
    arity: 3,
    flags: ["admin", "noscript", "loading", "stale"],
    categories: ADMIN,
    summary: "Set client eviction mode for the current connection (Logbook evicts no clients)",
    run(context, args) {
      context.session.noEvict = onOff(args[2] as string);
      return OK;
    },
  },
  {
    name: "no-touch",
    arity: 3,
    flags: ["noscript", "loading", "stale"],
    categories: CONNECTION,
    summary: "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access",
    run(context, args) {
      context.session.noTouch = onOff(args[2] as string);
      return OK;
    },
  },
  {
    name: "help",
    arity: 2,
    flags: ["loading", "stale"],
    categories: CONNECTION,
    summary: "Show helpful text about the different subcommands",
    run: (_context, args) => helpReply(args[0] as string, HELP),
  },
];

export const clientCommand = containerCommand(
  { name: "client", summary: "A container for client connection commands" },
  subcommands,
);
