/**
 * Expiry commands (expire.c): EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT, TTL,
 * PTTL, EXPIRETIME, PEXPIRETIME and PERSIST. Times are ms since the epoch, as the store keeps
 * them (0: no expiry).
 *
 * An expiry time already past deletes the key, and the delete is what is logged, so replay
 * needs no clock. Times Redis accepts beyond the store's range (after the year 287,000) are
 * stored as the latest time the store holds. Streams do not expire: setting an expiry on one is
 * refused with WRONGTYPE, and TTL answers -1 for it.
 */
import type { CommandSpec } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { integer, ONE, type Reply, RespError, ZERO } from "../reply.js";
import { INT64_MAX, INT64_MIN } from "./int64.js";
import { integerArgument, optionName } from "./string-args.js";

/** The latest expiry time the store holds, ms since the epoch. */
export const EXPIRES_AT_MAX = Number.MAX_SAFE_INTEGER;

const NX = 1;
const XX = 2;
const GT = 4;
const LT = 8;

const WRONG_TYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

/** An argument as C's %s prints it: up to its first NUL byte. */
function cString(arg: string): string {
  const nul = arg.indexOf("\0");
  return nul === -1 ? arg : arg.slice(0, nul);
}

/** EXPIRE's NX/XX/GT/LT flags (expire.c parseExtendedExpireArgumentsOrReply): their bits, or Redis's error. */
function expireFlags(args: string[]): number {
  let flags = 0;
  for (let i = 3; i < args.length; i++) {
    const option = optionName(args[i] as string);
    switch (option) {
      case "nx":
        flags |= NX;
        break;
      case "xx":
        flags |= XX;
        break;
      case "gt":
        flags |= GT;
        break;
      case "lt":
        flags |= LT;
        break;
      default:
        throw new RespError(`ERR Unsupported option ${cString(args[i] as string)}`);
    }
  }
  if (flags & NX && flags & (XX | GT | LT)) {
    throw new RespError("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if (flags & GT && flags & LT) throw new RespError("ERR GT and LT options at the same time are not compatible");
  return flags;
}

/** The expiry time an argument asks for, in ms; Redis's error when the conversion or the addition overflows. */
function expiryTime(args: string[], baseMs: number, seconds: boolean): bigint {
  let when = BigInt(integerArgument(args[2] as string));
  const invalid = () => new RespError(`ERR invalid expire time in '${(args[0] as string).toLowerCase()}' command`);
  if (seconds) {
    // C's division truncates toward zero, as bigint's does.
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) throw invalid();
    when *= 1000n;
  }
  const base = BigInt(baseMs);
  if (when > INT64_MAX - base) throw invalid();
  return when + base;
}

/** Whether NX/XX/GT/LT let an expiry time `when` replace `current` (-1: none). */
function flagsAllow(flags: number, when: bigint, current: number): boolean {
  if (flags & NX && current !== -1) return false;
  if (flags & XX && current === -1) return false;
  if (flags & GT && (current === -1 || when <= BigInt(current))) return false;
  if (flags & LT && current !== -1 && when >= BigInt(current)) return false;
  return true;
}

function expire(context: CommandContext, args: string[], relative: boolean, seconds: boolean): Reply | Promise<Reply> {
  const flags = expireFlags(args);
  const now = context.now();
  const when = expiryTime(args, relative ? now : 0, seconds);
  context.checkWritable();
  const key = context.key(args[1] as string);
  const kind = context.kindOf(key, "latest");
  if (kind === undefined) return ZERO;
  const current = kind === "string" ? context.latest(key)?.expiresAt : 0;
  if (current === undefined) return ZERO;
  if (!flagsAllow(flags, when, current === 0 ? -1 : current)) return ZERO;
  if (when <= BigInt(now)) return context.write([{ type: "delete", key }]).then(() => ONE);
  if (kind === "stream") throw new RespError(WRONG_TYPE);
  const expiresAt = when > BigInt(EXPIRES_AT_MAX) ? EXPIRES_AT_MAX : Number(when);
  return context.write([{ type: "expire", key, expiresAt }]).then(() => ONE);
}

/** TTL's family: -2 for no key, -1 for no expiry, else the time left (or the time, `absolute`), never below 0. */
function timeToLive(context: CommandContext, args: string[], milliseconds: boolean, absolute: boolean): Reply {
  const key = context.key(args[1] as string);
  const kind = context.kindOf(key);
  if (kind === undefined) return integer(-2);
  if (kind === "stream") return integer(-1);
  const entry = context.read(key);
  if (entry === undefined) return integer(-2);
  if (entry.expiresAt === 0) return integer(-1);
  const left = Math.max(0, absolute ? entry.expiresAt : entry.expiresAt - context.now());
  return integer(milliseconds ? left : Math.floor((left + 500) / 1000));
}

function persist(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  context.checkWritable();
  const key = context.key(args[1] as string);
  if (context.kindOf(key, "latest") !== "string") return ZERO;
  const entry = context.latest(key);
  if (entry === undefined || entry.expiresAt === 0) return ZERO;
  return context.write([{ type: "expire", key, expiresAt: 0 }]).then(() => ONE);
}

const KEY_FIRST = { first: 1, last: 1, step: 1 } as const;

function expireSpec(name: string, relative: boolean, seconds: boolean, summary: string): CommandSpec {
  return {
    name,
    arity: -3,
    flags: ["write", "fast"],
    keys: KEY_FIRST,
    categories: ["@keyspace", "@write", "@fast"],
    summary,
    run: (context, args) => expire(context, args, relative, seconds),
  };
}

function ttlSpec(name: string, milliseconds: boolean, absolute: boolean, summary: string): CommandSpec {
  return {
    name,
    arity: 2,
    flags: ["readonly", "fast"],
    keys: KEY_FIRST,
    categories: ["@keyspace", "@read", "@fast"],
    summary,
    run: (context, args) => timeToLive(context, args, milliseconds, absolute),
  };
}

export const expiryCommands: CommandSpec[] = [
  expireSpec("expire", true, true, "Sets the expiration time of a key in seconds."),
  expireSpec("pexpire", true, false, "Sets the expiration time of a key in milliseconds."),
  expireSpec("expireat", false, true, "Sets the expiration time of a key to a Unix timestamp."),
  expireSpec("pexpireat", false, false, "Sets the expiration time of a key to a Unix milliseconds timestamp."),
  ttlSpec("ttl", false, false, "Returns the expiration time in seconds of a key."),
  ttlSpec("pttl", true, false, "Returns the expiration time in milliseconds of a key."),
  ttlSpec("expiretime", false, true, "Returns the expiration time of a key as a Unix timestamp."),
  ttlSpec("pexpiretime", true, true, "Returns the expiration time of a key as a Unix milliseconds timestamp."),
  {
    name: "persist",
    arity: 2,
    flags: ["write", "fast"],
    keys: KEY_FIRST,
    categories: ["@keyspace", "@write", "@fast"],
    summary: "Removes the expiration time of a key.",
    run: persist,
  },
];
