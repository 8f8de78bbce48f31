/**
 * Redis's 64-bit integers (util.c string2ll, INCRBY's overflow check) in JS: a value is a
 * number while it is a safe integer (|v| < 2^53, the common case, kept fast), and a bigint
 * beyond that, so every int64 is exact.
 */

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;
/** string2ll refuses texts this long or longer (util.h LONG_STR_SIZE: 20 digits and a sign, plus one). */
const INT64_CHARS_LIMIT = 21;
/** Digits that always fit a double exactly (10^15 < 2^53). */
const SAFE_DIGITS = 15;
const DIGIT_ZERO = 48;
const DIGIT_ONE = 49;
const DIGIT_NINE = 57;
const MINUS = 45;

/**
 * The int64 `text` spells, read as strictly as string2ll: an optional '-', then "0" alone or a
 * digit 1-9 and more digits; no '+', spaces or leading zeros; within int64. Undefined otherwise.
 */
export function parseInt64(text: string): number | bigint | undefined {
  const length = text.length;
  if (length === 0 || length >= INT64_CHARS_LIMIT) return undefined;
  let at = 0;
  if (text.charCodeAt(0) === MINUS) {
    if (length === 1) return undefined;
    at = 1;
  }
  const first = text.charCodeAt(at);
  if (first < DIGIT_ONE || first > DIGIT_NINE) return first === DIGIT_ZERO && length === 1 ? 0 : undefined;
  let value = first - DIGIT_ZERO;
  for (let i = at + 1; i < length; i++) {
    const digit = text.charCodeAt(i) - DIGIT_ZERO;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  if (length - at <= SAFE_DIGITS) return at === 0 ? value : -value;
  const big = BigInt(text);
  if (big > INT64_MAX || big < INT64_MIN) return undefined;
  return narrow(big);
}

/** The exact sum, or undefined when it leaves int64 (INCRBY's "would overflow"). */
export function addInt64(a: number | bigint, b: number | bigint): number | bigint | undefined {
  if (typeof a === "number" && typeof b === "number") {
    const sum = a + b;
    if (Number.isSafeInteger(sum)) return sum;
  }
  const sum = BigInt(a) + BigInt(b);
  if (sum > INT64_MAX || sum < INT64_MIN) return undefined;
  return narrow(sum);
}

/** A number when it is a safe integer, so later arithmetic takes the fast path. */
function narrow(value: bigint): number | bigint {
  const small = Number(value);
  return Number.isSafeInteger(small) ? small : value;
}
