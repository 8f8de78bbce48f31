/**
 * Commands on a string's bytes by position (t_string.c): APPEND, STRLEN, SETRANGE, GETRANGE
 * and its old name SUBSTR. Values are latin1 strings, one char per byte, so lengths and
 * offsets are bytes. APPEND and SETRANGE grow a value only up to the longest bulk string, and
 * keep the key's expiry.
 */
import type { CommandSpec } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulk, integer, type Reply, RespError, ZERO } from "../reply.js";
import { checkStringLength, integerArgument, keptExpiry, ONE_KEY } from "./string-args.js";

const EMPTY_BULK: Reply = "$0\r\n\r\n";

function append(context: CommandContext, args: string[]): Promise<Reply> {
  const key = context.key(args[1] as string);
  const suffix = args[2] as string;
  const entry = context.latest(key);
  let value = suffix;
  if (entry !== undefined) {
    checkStringLength(context, entry.value.length, suffix.length);
    value = entry.value + suffix;
  }
  const reply = integer(value.length);
  return context.write([{ type: "put", key, value, expiresAt: keptExpiry(entry) }]).then(() => reply);
}

function strlen(context: CommandContext, args: string[]): Reply {
  const entry = context.read(context.key(args[1] as string));
  return entry === undefined ? ZERO : integer(entry.value.length);
}

/** SETRANGE key offset value: overwrites from `offset`, padding with zero bytes past the end. */
function setrange(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const offset = integerArgument(args[2] as string);
  if (offset < 0) throw new RespError("ERR offset is out of range");
  const key = context.key(args[1] as string);
  const patch = args[3] as string;
  const entry = context.latest(key);
  // Setting nothing changes nothing: the length as it is (0 for an absent key, which stays absent).
  if (patch.length === 0) return entry === undefined ? ZERO : integer(entry.value.length);
  const start = Number(offset);
  checkStringLength(context, start, patch.length);
  const old = entry === undefined ? "" : entry.value;
  const head = old.length >= start ? old.slice(0, start) : old + "\0".repeat(start - old.length);
  const value = head + patch + old.slice(start + patch.length);
  const reply = integer(value.length);
  return context.write([{ type: "put", key, value, expiresAt: keptExpiry(entry) }]).then(() => reply);
}

/** GETRANGE key start end: the bytes from start to end inclusive; negative positions count from the end. */
function getrange(context: CommandContext, args: string[]): Reply {
  const first = integerArgument(args[2] as string);
  const last = integerArgument(args[3] as string);
  const entry = context.read(context.key(args[1] as string));
  if (entry === undefined) return EMPTY_BULK;
  const value = entry.value;
  const length = value.length;
  // Compared before the int64s become doubles, which could make two huge ones equal.
  if (first < 0 && last < 0 && first > last) return EMPTY_BULK;
  let start = Number(first);
  let end = Number(last);
  if (start < 0) start = Math.max(length + start, 0);
  if (end < 0) end = Math.max(length + end, 0);
  if (end >= length) end = length - 1;
  if (start > end || length === 0) return EMPTY_BULK;
  return bulk(value.slice(start, end + 1));
}

export const stringRangeCommands: CommandSpec[] = [
  {
    name: "append",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@fast"],
    summary: "Append a value to a key",
    run: append,
  },
  {
    name: "strlen",
    arity: 2,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    categories: ["@read", "@string", "@fast"],
    summary: "Get the length of the value stored in a key",
    run: strlen,
  },
  {
    name: "setrange",
    arity: 4,
    flags: ["write", "denyoom"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@slow"],
    summary: "Overwrite part of a string at key starting at the specified offset",
    run: setrange,
  },
  {
    name: "getrange",
    arity: 4,
    flags: ["readonly"],
    keys: ONE_KEY,
    categories: ["@read", "@string", "@slow"],
    summary: "Get a substring of the string stored at a key",
    run: getrange,
  },
  {
    name: "substr",
    arity: 4,
    flags: ["readonly"],
    keys: ONE_KEY,
    categories: ["@read", "@string", "@slow"],
    summary: "Get a substring of the string stored at a key",
    run: getrange,
  },
];
