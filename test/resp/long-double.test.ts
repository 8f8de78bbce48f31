import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import {
  addLongDouble,
  formatLongDouble,
  LONG_DOUBLE_CHARS_MAX,
  type LongDouble,
  parseLongDouble,
} from "../../src/server/resp/commands/long-double.js";

/** What INCRBYFLOAT answers when `start` is stored and `increment` added: as the string, or an error. */
function incrbyfloat(start: string, increment: string): string {
  const a = parseLongDouble(start);
  const b = parseLongDouble(increment);
  if (a === undefined || b === undefined) return "-ERR value is not a valid float";
  const sum = typeof a === "number" || typeof b === "number" ? undefined : addLongDouble(a as LongDouble, b as LongDouble);
  return sum === undefined ? "-ERR increment would produce NaN or Infinity" : formatLongDouble(sum);
}

/** Recorded from redis-server 7.0.15 on x86-64: SET v <start>, INCRBYFLOAT v <increment>. */
const REDIS_SUMS: [string, string, string][] = [
  ["0.1", "0.2", "0.3"],
  ["1.1", "2.2", "3.3"],
  ["123456789.123456789", "0.000000001", "123456789.12345678999554366"],
  ["-5.5", "5.4", "-0.1"],
  ["1e-10", "1e-10", "0.0000000002"],
  ["0x1p-16382", "-0x1p-16445", "0"],
  ["0x1p-16445", "0x1p-16445", "0"],
  ["3.6e-4951", "0", "0"],
  ["1.9e-4951", "0", "0"],
  ["1.8e-4951", "0", "-ERR value is not a valid float"],
  ["0x1.00000000000000008p0", "0", "1"],
  ["0x1.00000000000000018p0", "0", "1"],
  ["18446744073709551615", "1", "18446744073709551616"],
  ["18446744073709551617", "0", "18446744073709551616"],
  ["9223372036854775807", "0.5", "9223372036854775807.5"],
  ["1e19", "1e-19", "10000000000000000000"],
  ["2.5e-18", "0", "0"],
  ["0.000000000000000015", "0", "0.00000000000000002"],
  ["0.000000000000000025", "0", "0.00000000000000002"],
  ["0.000003814697265625", "0", "0.00000381469726562"],
  ["7", "-7.000000000000000001", "0"],
  ["-1e4932", "-2e4931", "-ERR increment would produce NaN or Infinity"],
  ["99.99", "0.01", "100"],
  ["0.3333333333333333333333", "0.6666666666666666666667", "1"],
  ["1E+2", "1e-2", "100.01"],
  ["0X1P4", "0x.8P1", "17"],
  ["-0", "-0", "0"],
  ["+0", "-0", "0"],
];

test("sums and their text match Redis's x87 long double, rounding and subnormals included", () => {
  for (const [start, increment, expected] of REDIS_SUMS)
    assert.equal(incrbyfloat(start, increment), expected, `${start} + ${increment}`);
});

test("the largest values print in full, digit for digit as Redis prints them", () => {
  const digest = (text: string) => createHash("sha256").update(text).digest("hex");
  const largest = incrbyfloat("0x1.fffffffffffffffep16383", "0");
  assert.equal(largest.length, 4933);
  assert.equal(digest(largest), "39319dad6400899a3385cef1c62991c21106f7f12a7dea6f3849a857ad9131a6");
  const sum = incrbyfloat("1e4932", "1e4931");
  assert.equal(sum.length, 4933);
  assert.equal(digest(sum), "c12af2ae593603de95f49006ae5b75537662a8b4da14a1d09879cec7e0d9bfd8");
});

test("only what strtold reads whole, without spaces, is a valid float", () => {
  for (const text of ["1", "-1", "+1", ".5", "5.", "1e5", "1E-5", "0x1p3", "0X.8", "inf", "-INF", "Infinity", "0", "-0.0e0"]) {
    assert.notEqual(parseLongDouble(text), undefined, text);
  }
  const bad = [
    "",
    " 1",
    "1 ",
    "\t1",
    "1\u00002",
    ".",
    "e5",
    "1e",
    "1e+",
    "0x",
    "0xp1",
    "0x1p",
    "nan",
    "NaN",
    "-nan",
    "infin",
    "++1",
  ];
  for (const text of [...bad, "1e5000", "1e-5000", "1".repeat(LONG_DOUBLE_CHARS_MAX)]) {
    assert.equal(parseLongDouble(text), undefined, JSON.stringify(text.slice(0, 20)));
  }
  assert.equal(parseLongDouble("-inf"), -Infinity);
});
