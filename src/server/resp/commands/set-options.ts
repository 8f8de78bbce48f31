/**
 * The options of SET and GETEX (t_string.c parseExtendedStringArgumentsOrReply) and the
 * expiry time they name (getExpireMillisecondsOrReply), with Redis's conflicts: NX with XX,
 * KEEPTTL or PERSIST with any expiry, and two different kinds of expiry, are syntax errors;
 * the same option twice is not (the last expiry wins).
 */
import { syntaxError } from "../command-spec.js";
import { RespError } from "../reply.js";
import { INT64_MAX } from "./int64.js";
import { integerArgument, optionName } from "./string-args.js";

export const SET_NX = 1 << 0;
export const SET_XX = 1 << 1;
export const EXPIRE_EX = 1 << 2;
export const EXPIRE_PX = 1 << 3;
export const KEEPTTL = 1 << 4;
export const SET_GET = 1 << 5;
export const EXPIRE_EXAT = 1 << 6;
export const EXPIRE_PXAT = 1 << 7;
export const PERSIST = 1 << 8;

/** Any way of naming an expiry. */
export const ANY_EXPIRY = EXPIRE_EX | EXPIRE_PX | EXPIRE_EXAT | EXPIRE_PXAT;
/** Expiries counted in seconds (the others are milliseconds). */
const IN_SECONDS = EXPIRE_EX | EXPIRE_EXAT;
/** Expiries relative to now (the others are absolute times). */
const RELATIVE = EXPIRE_EX | EXPIRE_PX;

export interface StringOptions {
  flags: number;
  /** The expiry argument as sent, when an expiry option is given. */
  expire: string | undefined;
}

/** SET's options from args[3] on, or GETEX's from args[2] on. Throws ERR syntax error. */
export function parseStringOptions(args: readonly string[], command: "set" | "getex"): StringOptions {
  const forSet = command === "set";
  let flags = 0;
  let expire: string | undefined;
  for (let j = forSet ? 3 : 2; j < args.length; j++) {
    const option = optionName(args[j] as string);
    const hasNext = j < args.length - 1;
    let expiry = 0;
    if (option === "nx" && forSet && (flags & SET_XX) === 0) flags |= SET_NX;
    else if (option === "xx" && forSet && (flags & SET_NX) === 0) flags |= SET_XX;
    else if (option === "get" && forSet) flags |= SET_GET;
    else if (option === "keepttl" && forSet && (flags & (PERSIST | ANY_EXPIRY)) === 0) flags |= KEEPTTL;
    else if (option === "persist" && !forSet && (flags & (KEEPTTL | ANY_EXPIRY)) === 0) flags |= PERSIST;
    else if (option === "ex") expiry = EXPIRE_EX;
    else if (option === "px") expiry = EXPIRE_PX;
    else if (option === "exat") expiry = EXPIRE_EXAT;
    else if (option === "pxat") expiry = EXPIRE_PXAT;
    else throw syntaxError();
    if (expiry === 0) continue;
    // An expiry needs its argument, and no KEEPTTL, PERSIST or other kind of expiry before it.
    if (!hasNext || (flags & (KEEPTTL | PERSIST | (ANY_EXPIRY & ~expiry))) !== 0) throw syntaxError();
    flags |= expiry;
    expire = args[++j];
  }
  return { flags, expire };
}

/**
 * The absolute expiry time (ms since the epoch) that `text` names for the expiry in `flags`:
 * an int64, at least 1, and not past int64 once made milliseconds and absolute; otherwise
 * `ERR invalid expire time in '<command>' command`.
 */
export function expiryTime(text: string, flags: number, now: number, command: string): number {
  const given = integerArgument(text);
  const seconds = (flags & IN_SECONDS) !== 0;
  const relative = (flags & RELATIVE) !== 0;
  if (given <= 0) throw invalidExpireTime(command);
  if (typeof given === "number") {
    const time = (seconds ? given * 1000 : given) + (relative ? now : 0);
    if (Number.isSafeInteger(time)) return time;
  }
  let time = BigInt(given);
  if (seconds && time > INT64_MAX / 1000n) throw invalidExpireTime(command);
  if (seconds) time *= 1000n;
  if (relative) time += BigInt(now);
  if (time > INT64_MAX) throw invalidExpireTime(command);
  // The store keeps expiry times below 2^53 milliseconds (the year 287396): later is as good as never.
  return time > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(time);
}

function invalidExpireTime(command: string): RespError {
  return new RespError(`ERR invalid expire time in '${command}' command`);
}
