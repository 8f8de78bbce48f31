/**
 * Container commands (CONFIG, CLIENT, COMMAND): one command name whose second argument picks a
 * subcommand with its own arity and flags. The container answers Redis's texts for an unknown
 * subcommand (`ERR unknown subcommand 'x'. Try CONFIG HELP.`) and a wrong arity
 * (`ERR wrong number of arguments for 'config|set' command`), and names the subcommand in
 * CLIENT LIST's `cmd=` as Redis does (`config|get`).
 */
import { arityHolds, type CommandFlag, type CommandSpec, unknownSubcommand, wrongArity } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { array, type Reply, simple } from "../reply.js";

export interface Subcommand {
  /** Lower case, without the container's name: `get` for CONFIG GET. */
  name: string;
  /** Counting the container's name and the subcommand's: CONFIG GET's is -3. */
  arity: number;
  flags: readonly CommandFlag[];
  categories: readonly string[];
  summary: string;
  run(context: CommandContext, args: string[]): Reply | Promise<Reply>;
}

export interface ContainerOptions {
  name: string;
  summary: string;
  /** The container's own arity: -2 (a subcommand is required), or -1 when it runs alone too (COMMAND). */
  arity?: number;
  flags?: readonly CommandFlag[];
  categories?: readonly string[];
  /** What the container does without a subcommand (COMMAND alone); required when arity is -1. */
  alone?: (context: CommandContext, args: string[]) => Reply | Promise<Reply>;
}

export function containerCommand(options: ContainerOptions, subcommands: readonly Subcommand[]): CommandSpec {
  const byName = new Map(subcommands.map((sub) => [sub.name, sub]));
  const { name, alone } = options;
  return {
    name,
    arity: options.arity ?? -2,
    flags: options.flags ?? [],
    categories: options.categories ?? ["@slow"],
    summary: options.summary,
    subcommands: subcommands.map((sub) => ({
      name: sub.name,
      arity: sub.arity,
      flags: sub.flags,
      summary: sub.summary,
      categories: sub.categories,
    })),
    run(context, args) {
      if (args.length < 2 && alone !== undefined) return alone(context, args);
      const given = args[1] as string;
      const sub = byName.get(given.toLowerCase());
      if (sub === undefined) throw unknownSubcommand(args[0] as string, given);
      if (!arityHolds(sub.arity, args.length)) throw wrongArity(`${name}|${sub.name}`);
      context.session.lastCommand = `${name}|${sub.name}`;
      return sub.run(context, args);
    },
  };
}

/**
 * Redis's HELP reply: a header naming the command as it was sent, the lines, and HELP's own
 * entry, each a simple string.
 */
export function helpReply(command: string, lines: readonly string[]): Reply {
  return array([
    simple(`${command.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`),
    ...lines.map(simple),
    simple("HELP"),
    simple("    Prints this help."),
  ]);
}
