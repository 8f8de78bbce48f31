/**
 * KEYS and SCAN over a tenant's keys: the store's keys in key order (strings and streams, as
 * acknowledged, expired ones left out), narrowed to where a pattern's keys can be, filtered by
 * the pattern (glob.ts) and a type. SCAN reads one page: COUNT keys looked at, then the key the
 * next page starts at.
 */
import type { CommandContext, KeyKind } from "./context.js";
import { globMatch, literalPrefix } from "./glob.js";

export interface KeyFilter {
  /** A glob pattern on the key's name (undefined: every key). */
  pattern?: string;
  /** A type name as TYPE answers it, lower case (undefined: every type). */
  type?: string;
}

export interface ScanPage {
  /** Names (the client's) of the keys looked at that pass the filter, in key order. */
  names: string[];
  /** The internal key the next page starts at; undefined when the scan is done. */
  next: string | undefined;
}

/** The least text greater than every text that starts with `prefix`; undefined when there is none (all bytes 0xff). */
function successor(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0 && prefix.charCodeAt(end - 1) === 0xff) end--;
  if (end === 0) return undefined;
  return prefix.slice(0, end - 1) + String.fromCharCode(prefix.charCodeAt(end - 1) + 1);
}

/** The part of the tenant's key range where keys matching `pattern` can be. */
export function searchRange(context: CommandContext, pattern: string | undefined): { gte: string; lt: string } {
  const range = context.range;
  if (pattern === undefined) return range;
  const literal = literalPrefix(pattern);
  if (literal.length === 0) return range;
  const end = successor(literal);
  return { gte: range.gte + literal, lt: end === undefined ? range.lt : range.gte + end };
}

function passes(filter: KeyFilter, name: string, kind: KeyKind): boolean {
  if (filter.pattern !== undefined && !globMatch(filter.pattern, name)) return false;
  return filter.type === undefined || filter.type === kind;
}

/** Names of every key of the tenant that passes `filter`, in key order (KEYS). */
export function matchingNames(context: CommandContext, filter: KeyFilter): string[] {
  const names: string[] = [];
  for (const { key, kind } of context.store.keyspace.scan(searchRange(context, filter.pattern))) {
    const name = context.userKey(key);
    if (passes(filter, name, kind)) names.push(name);
  }
  return names;
}

/** One page of a scan resuming at internal key `resume`: `count` keys looked at (SCAN). */
export function scanPage(context: CommandContext, resume: string, count: number, filter: KeyFilter): ScanPage {
  const range = searchRange(context, filter.pattern);
  const gte = resume > range.gte ? resume : range.gte;
  const names: string[] = [];
  if (gte >= range.lt) return { names, next: undefined };
  let seen = 0;
  for (const { key, kind } of context.store.keyspace.scan({ gte, lt: range.lt })) {
    if (seen === count) return { names, next: key };
    seen++;
    const name = context.userKey(key);
    if (passes(filter, name, kind)) names.push(name);
  }
  return { names, next: undefined };
}
