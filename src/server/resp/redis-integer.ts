/**
 * Integer arguments as Redis reads them (util.c string2ll, object.c getLongLongFromObject and
 * getIntFromObjectOrReply): decimal digits with an optional `-`, no `+`, no spaces, no leading
 * zeros, within a signed 64-bit integer. Values are bigints: a 64-bit integer does not fit a
 * double, and Redis's overflow checks are made on the exact value.
 */
import { RespError } from "./reply.js";

export const LLONG_MAX = (1n << 63n) - 1n;
export const LLONG_MIN = -(1n << 63n);
const INT_MAX = 2_147_483_647n;
const INT_MIN = -2_147_483_648n;

/** Longest text string2ll reads: LONG_STR_SIZE (21) less one. */
const LONG_LONG_CHARS_MAX = 20;

const CANONICAL = /^(?:0|-?[1-9][0-9]*)$/;

export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";

/** The signed 64-bit integer `text` spells as Redis requires, or undefined. */
export function parseLongLong(text: string): bigint | undefined {
  if (text.length === 0 || text.length > LONG_LONG_CHARS_MAX || !CANONICAL.test(text)) return undefined;
  const value = BigInt(text);
  return value > LLONG_MAX || value < LLONG_MIN ? undefined : value;
}

/** A signed 64-bit integer argument; Redis's error otherwise. */
export function longLongArg(text: string): bigint {
  const value = parseLongLong(text);
  if (value === undefined) throw new RespError(NOT_AN_INTEGER);
  return value;
}

/** A C int argument (a DB index): Redis's errors for text that is no integer, or one out of range. */
export function intArg(text: string): number {
  const value = longLongArg(text);
  if (value < INT_MIN || value > INT_MAX) {
    throw new RespError(`ERR value is out of range, value must between ${INT_MIN} and ${INT_MAX}`);
  }
  return Number(value);
}
