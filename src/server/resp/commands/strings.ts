/**
 * String commands (t_string.c): GET, SET and their family.
 */
import type { CommandSpec } from "../command-spec.js";
import { syntaxError } from "../command-spec.js";
import { bulk, NIL, OK } from "../reply.js";

export const stringCommands: CommandSpec[] = [
  {
    name: "get",
    arity: 2,
    flags: ["readonly", "fast"],
    keys: { first: 1, last: 1, step: 1 },
    categories: ["@read", "@string", "@fast"],
    summary: "Returns the string value of a key.",
    run(context, args) {
      const entry = context.read(context.key(args[1] as string));
      return entry === undefined ? NIL : bulk(entry.value);
    },
  },
  {
    name: "set",
    arity: -3,
    flags: ["write", "denyoom"],
    keys: { first: 1, last: 1, step: 1 },
    categories: ["@write", "@string", "@slow"],
    summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
    run(context, args) {
      if (args.length > 3) throw syntaxError();
      return context.write([{ type: "put", key: context.key(args[1] as string), value: args[2] as string }]).then(() => OK);
    },
  },
];
