/**
 * The range a scan covers, from its options (the names of the level ecosystem): the tightest
 * of `prefix`, `gt`/`gte` and `lt`/`lte`, as bounds on internal keys (byte order of their
 * UTF-8 or binary form).
 */
import { type Key, prefixEnd } from "./encoding.js";

export interface ScanOptions {
  prefix?: Key;
  gt?: Key;
  gte?: Key;
  lt?: Key;
  lte?: Key;
  limit?: number;
  reverse?: boolean;
  signal?: AbortSignal;
}

export interface ScanRange {
  lower: string | undefined;
  lowerInclusive: boolean;
  upper: string | undefined;
  upperInclusive: boolean;
}

export function scanRange(options: ScanOptions, toInternal: (key: Key) => string): ScanRange {
  const bound = (key: Key | undefined) => (key === undefined ? undefined : toInternal(key));
  const range: ScanRange = { lower: bound(options.gte), lowerInclusive: true, upper: bound(options.lte), upperInclusive: true };
  const gt = bound(options.gt);
  if (gt !== undefined && (range.lower === undefined || gt >= range.lower)) {
    range.lower = gt;
    range.lowerInclusive = false;
  }
  const lt = bound(options.lt);
  if (lt !== undefined && (range.upper === undefined || lt <= range.upper)) {
    range.upper = lt;
    range.upperInclusive = false;
  }
  const prefix = bound(options.prefix);
  if (prefix !== undefined) {
    if (range.lower === undefined || prefix > range.lower) {
      range.lower = prefix;
      range.lowerInclusive = true;
    }
    const end = prefixEnd(prefix);
    if (end !== undefined && (range.upper === undefined || end <= range.upper)) {
      range.upper = end;
      range.upperInclusive = false;
    }
  }
  return range;
}

export function isAboveLower(range: ScanRange, key: string): boolean {
  return range.lower === undefined || key > range.lower || (range.lowerInclusive && key === range.lower);
}

export function isBelowUpper(range: ScanRange, key: string): boolean {
  return range.upper === undefined || key < range.upper || (range.upperInclusive && key === range.upper);
}
