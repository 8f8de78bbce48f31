/**
 * INCRBYFLOAT's arithmetic, as Redis does it on x86-64: numbers are C `long double`, the x87
 * 80-bit extended format (a 64-bit significand), read with strtold, added with one rounding,
 * and written with `%.17Lf` and its trailing zeros trimmed (util.c ld2string, "human" mode).
 * A JS double has 53 bits, so 0.1 + 0.2 would print 0.30000000000000004 where Redis prints 0.3;
 * the value is kept exact here instead, as a BigInt significand and a power of two.
 *
 * Rounding is to nearest, ties to even, at every step (the x87 default, and glibc's printf).
 */

/** A finite extended value: (-1)^negative × significand × 2^exponent; zero has significand 0. */
export interface LongDouble {
  negative: boolean;
  significand: bigint;
  exponent: number;
}

/** Bits of the x87 extended significand (its integer bit included). */
const SIGNIFICAND_BITS = 64;
/** Exponent of the smallest subnormal's unit: 2^-16382 is the least normal, 63 bits below it the least subnormal. */
const EXPONENT_MIN = -16382 - (SIGNIFICAND_BITS - 1);
/** Exponent of the largest finite value's unit: (2^64 - 1) × 2^16320 < 2^16384. */
const EXPONENT_MAX = 16383 - (SIGNIFICAND_BITS - 1);
const SIGNIFICAND_LIMIT = 1n << BigInt(SIGNIFICAND_BITS);
/** Longest text Redis reads as a long double (util.h MAX_LONG_DOUBLE_CHARS). */
export const LONG_DOUBLE_CHARS_MAX = 5 * 1024;
/** Decimal places `%.17Lf` prints. */
const FRACTION_DIGITS = 17;
const FRACTION_SCALE = 10n ** BigInt(FRACTION_DIGITS);
/**
 * Decimal exponents beyond these bounds overflow to infinity or round to zero whatever the digits
 * (at most LONG_DOUBLE_CHARS_MAX of them); clamping keeps the powers of ten computed bounded.
 */
const DECIMAL_EXPONENT_BOUND = 4951 + LONG_DOUBLE_CHARS_MAX + 2;
const BINARY_EXPONENT_BOUND = 16445 + 4 * LONG_DOUBLE_CHARS_MAX + 2;

const ZERO: LongDouble = { negative: false, significand: 0n, exponent: 0 };

/**
 * Redis's string2ld: the whole text must be a number strtold reads (decimal or hexadecimal, an
 * optional sign, `inf`/`infinity`), with no spaces; NaN, and values that overflow or round to
 * zero from nonzero digits, are refused. Returns undefined when it is not a valid float, and
 * `Infinity`/`-Infinity` for the infinities (valid to read; never a sum's result).
 */
export function parseLongDouble(text: string): LongDouble | number | undefined {
  const length = text.length;
  if (length === 0 || length >= LONG_DOUBLE_CHARS_MAX) return undefined;
  let at = 0;
  let negative = false;
  const sign = text.charCodeAt(0);
  if (sign === 43 || sign === 45) {
    negative = sign === 45;
    at = 1;
  }
  const rest = at === 0 ? text : text.slice(at);
  const lower = rest.toLowerCase();
  if (lower === "inf" || lower === "infinity") return negative ? -Infinity : Infinity;
  if (lower.startsWith("0x")) return parseHexadecimal(negative, rest.slice(2));
  return parseDecimal(negative, rest);
}

function parseDecimal(negative: boolean, text: string): LongDouble | undefined {
  const match = /^([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (match === null) return undefined;
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  if (whole.length + fraction.length === 0) return undefined;
  const digits = BigInt(whole + fraction);
  if (digits === 0n) return { negative, significand: 0n, exponent: 0 };
  const digitCount = digits.toString().length;
  const exponent = clampExponent(match[3], DECIMAL_EXPONENT_BOUND) - fraction.length;
  // The value is below 10^(digitCount + exponent) and at least 10^(digitCount + exponent - 1).
  if (digitCount + exponent > 4933) return undefined;
  if (digitCount + exponent < -4951) return undefined;
  const result =
    exponent >= 0
      ? roundExact(negative, digits * 10n ** BigInt(exponent), 1n, 0)
      : roundExact(negative, digits, 10n ** BigInt(-exponent), 0);
  return result === undefined || result.significand === 0n ? undefined : result;
}

function parseHexadecimal(negative: boolean, text: string): LongDouble | undefined {
  const match = /^([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/.exec(text);
  if (match === null) return undefined;
  const whole = match[1] ?? "";
  const fraction = match[2] ?? "";
  if (whole.length + fraction.length === 0) return undefined;
  const digits = BigInt(`0x${whole}${fraction}`);
  if (digits === 0n) return { negative, significand: 0n, exponent: 0 };
  const exponent = clampExponent(match[3], BINARY_EXPONENT_BOUND) - 4 * fraction.length;
  const result = roundExact(negative, digits, 1n, exponent);
  return result === undefined || result.significand === 0n ? undefined : result;
}

function clampExponent(text: string | undefined, bound: number): number {
  if (text === undefined) return 0;
  const value = Number(text);
  return Math.min(Math.max(value, -bound), bound);
}

/** a + b rounded once, as the x87 adds; undefined when the sum is not finite. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | undefined {
  if (b.significand === 0n) return a.significand === 0n ? { ...a, negative: a.negative && b.negative } : a;
  if (a.significand === 0n) return b;
  const exponent = Math.min(a.exponent, b.exponent);
  const left = signed(a) << BigInt(a.exponent - exponent);
  const right = signed(b) << BigInt(b.exponent - exponent);
  const sum = left + right;
  if (sum === 0n) return ZERO;
  return sum < 0n ? roundExact(true, -sum, 1n, exponent) : roundExact(false, sum, 1n, exponent);
}

function signed(value: LongDouble): bigint {
  return value.negative ? -value.significand : value.significand;
}

/**
 * numerator / denominator × 2^exponent (both positive) rounded to the extended format;
 * undefined when it overflows. Underflow gives a subnormal, or zero.
 */
function roundExact(negative: boolean, numerator: bigint, denominator: bigint, exponent: number): LongDouble | undefined {
  let log2 = bitLength(numerator) - bitLength(denominator);
  const scaledDenominator = log2 >= 0 ? denominator << BigInt(log2) : denominator;
  const scaledNumerator = log2 >= 0 ? numerator : numerator << BigInt(-log2);
  if (scaledNumerator < scaledDenominator) log2--;
  // floor(log2(value)) = log2 + exponent; the significand's unit sits 63 bits below it.
  const unit = Math.max(log2 + exponent - (SIGNIFICAND_BITS - 1), EXPONENT_MIN);
  const shift = unit - exponent;
  const top = shift >= 0 ? numerator : numerator << BigInt(-shift);
  const bottom = shift >= 0 ? denominator << BigInt(shift) : denominator;
  let significand = roundedQuotient(top, bottom);
  let resultExponent = unit;
  if (significand === SIGNIFICAND_LIMIT) {
    significand >>= 1n;
    resultExponent++;
  }
  if (resultExponent > EXPONENT_MAX) return undefined;
  if (significand === 0n) return { negative, significand, exponent: 0 };
  return { negative, significand, exponent: resultExponent };
}

/** top / bottom rounded to the nearest integer, ties to even. */
function roundedQuotient(top: bigint, bottom: bigint): bigint {
  const quotient = top / bottom;
  const twice = (top - quotient * bottom) * 2n;
  if (twice > bottom || (twice === bottom && (quotient & 1n) === 1n)) return quotient + 1n;
  return quotient;
}

function bitLength(value: bigint): number {
  const hex = value.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(Number.parseInt(hex[0] as string, 16)));
}

/** ld2string's human mode: `%.17Lf`, trailing zeros and a bare point dropped, "-0" written "0". */
export function formatLongDouble(value: LongDouble): string {
  const { significand, exponent } = value;
  let scaled: bigint;
  if (exponent >= 0) scaled = (significand << BigInt(exponent)) * FRACTION_SCALE;
  else scaled = roundedQuotient(significand * FRACTION_SCALE, 1n << BigInt(-exponent));
  const digits = scaled.toString().padStart(FRACTION_DIGITS + 1, "0");
  const whole = digits.slice(0, digits.length - FRACTION_DIGITS);
  let end = digits.length;
  while (end > whole.length && digits.charCodeAt(end - 1) === 48) end--;
  const text = end === whole.length ? whole : `${whole}.${digits.slice(whole.length, end)}`;
  if (!value.negative || text === "0") return text;
  return `-${text}`;
}
