/**
 * Counters (t_string.c incrDecrCommand, incrbyfloatCommand): INCR, DECR, INCRBY, DECRBY on a
 * value that reads as an int64, INCRBYFLOAT on one that reads as a long double. Each reads the
 * latest sequenced value and writes the new one in the same synchronous step, so concurrent
 * increments from any number of connections all count. The key keeps its expiry.
 */
import type { CommandSpec } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulk, type Reply, RespError } from "../reply.js";
import { addInt64, INT64_MIN } from "./int64.js";
import { addLongDouble, formatLongDouble, type LongDouble, parseLongDouble } from "./long-double.js";
import { integerArgument, keptExpiry, NOT_A_FLOAT, ONE_KEY } from "./string-args.js";

/** An absent key counts from zero. */
const ZERO: LongDouble = { negative: false, significand: 0n, exponent: 0 };

function incrementBy(context: CommandContext, name: string, delta: number | bigint): Promise<Reply> {
  const key = context.key(name);
  const entry = context.latest(key);
  let current: number | bigint = 0;
  if (entry !== undefined) current = integerArgument(entry.value);
  const next = addInt64(current, delta);
  if (next === undefined) throw new RespError("ERR increment or decrement would overflow");
  const value = `${next}`;
  const reply = `:${value}\r\n`;
  return context.write([{ type: "put", key, value, expiresAt: keptExpiry(entry) }]).then(() => reply);
}

function decrby(context: CommandContext, args: string[]): Promise<Reply> {
  const delta = integerArgument(args[2] as string);
  if (delta === INT64_MIN) throw new RespError("ERR decrement would overflow");
  return incrementBy(context, args[1] as string, -delta);
}

function incrbyfloat(context: CommandContext, args: string[]): Promise<Reply> {
  const key = context.key(args[1] as string);
  const entry = context.latest(key);
  const current = entry === undefined ? ZERO : parseLongDouble(entry.value);
  if (current === undefined) throw new RespError(NOT_A_FLOAT);
  const increment = parseLongDouble(args[2] as string);
  if (increment === undefined) throw new RespError(NOT_A_FLOAT);
  // An infinity reads as valid, but no sum with one is finite.
  const sum = typeof current === "number" || typeof increment === "number" ? undefined : addLongDouble(current, increment);
  if (sum === undefined) throw new RespError("ERR increment would produce NaN or Infinity");
  const value = formatLongDouble(sum);
  const reply = bulk(value);
  return context.write([{ type: "put", key, value, expiresAt: keptExpiry(entry) }]).then(() => reply);
}

function counter(name: string, summary: string, run: CommandSpec["run"], arity = 2): CommandSpec {
  return {
    name,
    arity,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@fast"],
    summary,
    run,
  };
}

export const counterCommands: CommandSpec[] = [
  counter("incr", "Increment the integer value of a key by one", (context, args) => incrementBy(context, args[1] as string, 1)),
  counter("decr", "Decrement the integer value of a key by one", (context, args) => incrementBy(context, args[1] as string, -1)),
  counter(
    "incrby",
    "Increment the integer value of a key by the given amount",
    (context, args) => incrementBy(context, args[1] as string, integerArgument(args[2] as string)),
    3,
  ),
  counter("decrby", "Decrement the integer value of a key by the given number", decrby, 3),
  counter("incrbyfloat", "Increment the float value of a key by the given amount", incrbyfloat, 3),
];
