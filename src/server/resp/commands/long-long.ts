/**
 * Redis's strict integer reading (string2ll in util.c): an optional minus sign and decimal digits,
 * no leading zeros, no spaces, no plus sign, within a signed 64-bit integer. What Redis reads this
 * way (a protocol version, a client id) is refused when any of that fails.
 */

const LONG_LONG_MAX = 2n ** 63n - 1n;
const LONG_LONG_MIN = -(2n ** 63n);
/** The longest text a long long can be written in: a sign and 19 digits. */
const LONG_LONG_CHARS_MAX = 20;

/** The value of `text` as Redis's string2ll reads it, or undefined when it does not read. */
export function parseLongLong(text: string): number | undefined {
  if (text.length === 0 || text.length > LONG_LONG_CHARS_MAX) return undefined;
  if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return undefined;
  const value = BigInt(text);
  if (value > LONG_LONG_MAX || value < LONG_LONG_MIN) return undefined;
  return Number(value);
}
