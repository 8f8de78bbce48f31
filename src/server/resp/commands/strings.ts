/**
 * String commands (t_string.c): GET and SET with their options and variants, and the
 * multi-key MGET, MSET, MSETNX. Counters, ranges, bits and LCS have their own files.
 *
 * Reads (GET, MGET) see the acknowledged state. Everything that decides what to write from
 * what is there (SET with NX/XX/GET/KEEPTTL, SETNX, GETSET, GETDEL, GETEX, MSETNX) reads the
 * latest sequenced state and writes in the same synchronous step, so nothing comes between.
 * A SET without options touches nothing but its own write: it stays the lean path.
 */
import type { KeyspaceEntry, KeyspaceOp } from "../../../store/index.js";
import { type CommandSpec, wrongArity } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulk, bulkOrNil, NIL, OK, ONE, type Reply, ZERO } from "../reply.js";
import {
  ANY_EXPIRY,
  EXPIRE_EX,
  EXPIRE_EXAT,
  EXPIRE_PX,
  EXPIRE_PXAT,
  expiryTime,
  KEEPTTL,
  PERSIST,
  parseStringOptions,
  SET_GET,
  SET_NX,
  SET_XX,
} from "./set-options.js";
import { isWrongType, ONE_KEY, replyOk } from "./string-args.js";

function get(context: CommandContext, args: string[]): Reply {
  const entry = context.read(context.key(args[1] as string));
  return entry === undefined ? NIL : bulk(entry.value);
}

function set(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  if (args.length === 3) {
    return context.write([{ type: "put", key: context.key(args[1] as string), value: args[2] as string }]).then(replyOk);
  }
  return setWithOptions(context, args);
}

/** SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT time|KEEPTTL] (setGenericCommand). */
function setWithOptions(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const { flags, expire } = parseStringOptions(args, "set");
  let expiresAt = expire === undefined ? 0 : expiryTime(expire, flags, context.now(), "set");
  const key = context.key(args[1] as string);
  let old: KeyspaceEntry | undefined;
  let found: boolean;
  if ((flags & SET_GET) !== 0) {
    old = context.latest(key);
    found = old !== undefined;
  } else {
    // SET replaces a key of any kind: only GET cares that it holds a string.
    const kind = context.kindOf(key, "latest");
    found = kind !== undefined;
    if (kind === "string" && (flags & KEEPTTL) !== 0) old = context.latest(key);
  }
  const reply = (flags & SET_GET) !== 0 ? bulkOrNil(old?.value) : OK;
  if (((flags & SET_NX) !== 0 && found) || ((flags & SET_XX) !== 0 && !found)) {
    return (flags & SET_GET) !== 0 ? reply : NIL;
  }
  if ((flags & KEEPTTL) !== 0) expiresAt = old === undefined ? 0 : old.expiresAt;
  return context.write([{ type: "put", key, value: args[2] as string, expiresAt }]).then(() => reply);
}

function setnx(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const key = context.key(args[1] as string);
  if (context.kindOf(key, "latest") !== undefined) return ZERO;
  return context.write([{ type: "put", key, value: args[2] as string }]).then(() => ONE);
}

/** SETEX key seconds value, PSETEX key milliseconds value. */
function setWithExpiry(context: CommandContext, args: string[], flags: number, command: string): Promise<Reply> {
  const expiresAt = expiryTime(args[2] as string, flags, context.now(), command);
  return context.write([{ type: "put", key: context.key(args[1] as string), value: args[3] as string, expiresAt }]).then(replyOk);
}

function getset(context: CommandContext, args: string[]): Promise<Reply> {
  const key = context.key(args[1] as string);
  const old = context.latest(key);
  const reply = bulkOrNil(old?.value);
  return context.write([{ type: "put", key, value: args[2] as string }]).then(() => reply);
}

function getdel(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const key = context.key(args[1] as string);
  const entry = context.latest(key);
  if (entry === undefined) return NIL;
  const reply = bulk(entry.value);
  return context.write([{ type: "delete", key }]).then(() => reply);
}

/** GETEX key [EX|PX|EXAT|PXAT time|PERSIST]: GET that sets or clears the key's expiry. */
function getex(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const { flags, expire } = parseStringOptions(args, "getex");
  const key = context.key(args[1] as string);
  const entry = context.latest(key);
  if (entry === undefined) return NIL;
  const expiresAt = expire === undefined ? 0 : expiryTime(expire, flags, context.now(), "getex");
  const reply = bulk(entry.value);
  let op: KeyspaceOp;
  if ((flags & (EXPIRE_EXAT | EXPIRE_PXAT)) !== 0 && expiresAt <= context.now()) op = { type: "delete", key };
  else if ((flags & ANY_EXPIRY) !== 0) op = { type: "expire", key, expiresAt };
  else if ((flags & PERSIST) !== 0 && entry.expiresAt !== 0) op = { type: "expire", key, expiresAt: 0 };
  else return reply;
  return context.write([op]).then(() => reply);
}

/** MGET: nil for a key that is absent or holds a stream, as Redis answers for any other type. */
function mget(context: CommandContext, args: string[]): Reply {
  let out = `*${args.length - 1}\r\n`;
  for (let i = 1; i < args.length; i++) {
    let entry: KeyspaceEntry | undefined;
    try {
      entry = context.read(context.key(args[i] as string));
    } catch (error) {
      if (!isWrongType(error)) throw error;
    }
    out += entry === undefined ? NIL : `$${entry.value.length}\r\n${entry.value}\r\n`;
  }
  return out;
}

function mset(context: CommandContext, args: string[]): Promise<Reply> {
  return context.write(puts(context, args)).then(replyOk);
}

/** MSETNX: sets every pair, or none when any of the keys exists (of any kind). */
function msetnx(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const ops = puts(context, args);
  for (const op of ops) if (context.kindOf(op.key, "latest") !== undefined) return ZERO;
  return context.write(ops).then(() => ONE);
}

type PutOp = Extract<KeyspaceOp, { type: "put" }>;

/** The puts of MSET/MSETNX's key value pairs; an unpaired key is Redis's arity error. */
function puts(context: CommandContext, args: string[]): PutOp[] {
  if (args.length % 2 === 0) throw wrongArity(args[0] as string);
  const ops: PutOp[] = [];
  for (let i = 1; i < args.length; i += 2) {
    ops.push({ type: "put", key: context.key(args[i] as string), value: args[i + 1] as string });
  }
  return ops;
}

export const stringCommands: CommandSpec[] = [
  {
    name: "get",
    arity: 2,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    categories: ["@read", "@string", "@fast"],
    summary: "Get the value of a key",
    run: get,
  },
  {
    name: "set",
    arity: -3,
    flags: ["write", "denyoom"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@slow"],
    summary: "Set the string value of a key",
    run: set,
  },
  {
    name: "setnx",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@fast"],
    summary: "Set the value of a key, only if the key does not exist",
    run: setnx,
  },
  {
    name: "setex",
    arity: 4,
    flags: ["write", "denyoom"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@slow"],
    summary: "Set the value and expiration of a key",
    run: (context, args) => setWithExpiry(context, args, EXPIRE_EX, "setex"),
  },
  {
    name: "psetex",
    arity: 4,
    flags: ["write", "denyoom"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@slow"],
    summary: "Set the value and expiration in milliseconds of a key",
    run: (context, args) => setWithExpiry(context, args, EXPIRE_PX, "psetex"),
  },
  {
    name: "getset",
    arity: 3,
    flags: ["write", "denyoom", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@fast"],
    summary: "Set the string value of a key and return its old value",
    run: getset,
  },
  {
    name: "getdel",
    arity: 2,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@fast"],
    summary: "Get the value of a key and delete the key",
    run: getdel,
  },
  {
    name: "getex",
    arity: -2,
    flags: ["write", "fast"],
    keys: ONE_KEY,
    categories: ["@write", "@string", "@fast"],
    summary: "Get the value of a key and optionally set its expiration",
    run: getex,
  },
  {
    name: "mget",
    arity: -2,
    flags: ["readonly", "fast"],
    keys: { first: 1, last: -1, step: 1 },
    categories: ["@read", "@string", "@fast"],
    summary: "Get the values of all the given keys",
    run: mget,
  },
  {
    name: "mset",
    arity: -3,
    flags: ["write", "denyoom"],
    keys: { first: 1, last: -1, step: 2 },
    categories: ["@write", "@string", "@slow"],
    summary: "Set multiple keys to multiple values",
    run: mset,
  },
  {
    name: "msetnx",
    arity: -3,
    flags: ["write", "denyoom"],
    keys: { first: 1, last: -1, step: 2 },
    categories: ["@write", "@string", "@slow"],
    summary: "Set multiple keys to multiple values, only if none of the keys exist",
    run: msetnx,
  },
];
