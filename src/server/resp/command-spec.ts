/**
 * What a Redis command is to the endpoint: its name, arity and flags as Redis declares them
 * (COMMAND INFO reports them, clients such as ioredis read them), and the function that runs it.
 */
import type { CommandContext } from "./context.js";
import { type Reply, RespError } from "./reply.js";

/**
 * Flags as COMMAND INFO names them. The endpoint acts on: `write` (needs a read-write principal
 * and goes through admission), `readonly`, `blocking` (may wait: later commands of its
 * connection wait for it), `no-auth` (runs before AUTH), `no-multi` (refused inside MULTI),
 * `admin` (changes the server).
 */
export type CommandFlag =
  | "write"
  | "readonly"
  | "denyoom"
  | "admin"
  | "pubsub"
  | "noscript"
  | "blocking"
  | "loading"
  | "stale"
  | "skip_monitor"
  | "fast"
  | "no_auth"
  | "no_multi"
  | "allow_busy";

export interface CommandSpec {
  /** Lower case, as Redis reports it. */
  name: string;
  /** Redis's arity: N means exactly N arguments counting the name; -N means at least N. */
  arity: number;
  flags: readonly CommandFlag[];
  /** Where its keys are (1-based positions in the arguments; last -1 = the last argument). */
  keys?: { first: number; last: number; step: number };
  /** ACL categories, for COMMAND INFO (`@string`, `@stream`, …). */
  categories?: readonly string[];
  /** One line for COMMAND DOCS. */
  summary?: string;
  /** Subcommands (`CONFIG GET`, `XINFO STREAM`): their names and arities, for COMMAND INFO/DOCS. */
  subcommands?: readonly {
    name: string;
    arity: number;
    flags: readonly CommandFlag[];
    summary?: string;
    /** ACL categories; without them COMMAND INFO derives them from the flags, as Redis does. */
    categories?: readonly string[];
  }[];
  /**
   * Runs the command: `args[0]` is the command name as sent. Returns the reply, or a promise of it
   * (a write's reply once its record is durable; a blocking read's once it has something or times out).
   * Throws RespError (or a LogbookError, which errors.ts maps) for an error reply.
   */
  run(context: CommandContext, args: string[]): Reply | Promise<Reply>;
}

export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();

  constructor(specs: Iterable<CommandSpec>) {
    for (const spec of specs) {
      if (this.byName.has(spec.name)) throw new Error(`command ${spec.name} is declared twice`);
      this.byName.set(spec.name, spec);
    }
  }

  /** The command named `name`, in any case. */
  find(name: string): CommandSpec | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  get size(): number {
    return this.byName.size;
  }

  all(): IterableIterator<CommandSpec> {
    return this.byName.values();
  }
}

/** Redis's reply to a command it does not know, quoting the first arguments as it does. */
export function unknownCommand(args: readonly string[]): RespError {
  const name = args[0] ?? "";
  const quoted = args
    .slice(1, 64)
    .map((arg) => `'${arg.length > 128 ? arg.slice(0, 128) : arg}' `)
    .join("");
  return new RespError(`ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${quoted}`);
}

export function wrongArity(name: string): RespError {
  return new RespError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

/** Whether `count` arguments (the name included) fit `arity`. */
export function arityHolds(arity: number, count: number): boolean {
  return arity >= 0 ? count === arity : count >= -arity;
}

/** Redis's text for an unknown subcommand. */
export function unknownSubcommand(command: string, subcommand: string): RespError {
  return new RespError(`ERR unknown subcommand '${subcommand.slice(0, 128)}'. Try ${command.toUpperCase()} HELP.`);
}

export const SYNTAX_ERROR = "ERR syntax error";

export function syntaxError(): RespError {
  return new RespError(SYNTAX_ERROR);
}
