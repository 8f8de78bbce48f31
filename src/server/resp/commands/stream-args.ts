/**
 * The arguments of the stream commands as Redis 7.0 parses them (t_stream.c, util.c, object.c):
 * stream IDs with their special forms, integers, the trim options XADD and XTRIM share, and
 * keys, names and fields turned into what the store takes. Each failure is a RespError with
 * Redis's own text, raised in the order Redis checks.
 *
 * IDs are `{ ms, seq }` pairs of bigints here (both parts are unsigned 64-bit), printed as
 * `<ms>-<seq>` when handed to the store, which parses that canonical form only.
 */
import type { Key, Name, TrimOptions } from "../../../store/index.js";
import { syntaxError } from "../command-spec.js";
import { RespError } from "../reply.js";

export const U64_MAX = (1n << 64n) - 1n;
const LLONG_MAX = (1n << 63n) - 1n;
const LLONG_MIN = -(1n << 63n);

export const INVALID_ID = "ERR Invalid stream ID specified as stream command argument";
export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";

export interface Id {
  ms: bigint;
  seq: bigint;
}

export const MIN_ID: Id = { ms: 0n, seq: 0n };
export const MAX_ID: Id = { ms: U64_MAX, seq: U64_MAX };

export function formatId(id: Id): string {
  return `${id.ms}-${id.seq}`;
}

export function compareIds(a: Id, b: Id): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

/** The ID after `id`, or undefined after the largest (Redis's streamIncrID failing). */
export function incrementId(id: Id): Id | undefined {
  if (id.seq < U64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  return id.ms < U64_MAX ? { ms: id.ms + 1n, seq: 0n } : undefined;
}

/** The ID before `id`, or undefined before 0-0. */
export function decrementId(id: Id): Id | undefined {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  return id.ms > 0n ? { ms: id.ms - 1n, seq: U64_MAX } : undefined;
}

/** Redis's string2ll: an optional `-`, then digits without leading zeros (or `0`), within a long long. */
export function parseLongLong(text: string): bigint | undefined {
  if (!/^-?(0|[1-9][0-9]{0,19})$/.test(text) || text === "-0") return undefined;
  const value = BigInt(text);
  return value < LLONG_MIN || value > LLONG_MAX ? undefined : value;
}

/** An integer argument as getLongLongFromObjectOrReply reads it; `message` replaces Redis's default text. */
export function longLongArg(text: string, message = NOT_AN_INTEGER): bigint {
  const value = parseLongLong(text);
  if (value === undefined) throw new RespError(message);
  return value;
}

/** A bigint as a JS number, clamped into the safe range (counts and times beyond it mean "no limit" anyway). */
export function clampToNumber(value: bigint): number {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return Number(value > max ? max : value < -max ? -max : value);
}

/**
 * Redis's string2ull: string2ll for a non-negative value, else strtoull's reading (leading
 * spaces, an optional sign, decimal digits to the end, no overflow; a `-` wraps around).
 */
function parseU64(text: string): bigint | undefined {
  const strict = parseLongLong(text);
  if (strict !== undefined) return strict < 0n ? undefined : strict;
  const match = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (match === null) return undefined;
  const value = BigInt(match[2] as string);
  if (value > U64_MAX) return undefined;
  return match[1] === "-" ? (U64_MAX + 1n - value) & U64_MAX : value;
}

export interface ParsedId extends Id {
  /** False for `<ms>-*` (XADD: the sequence is to be generated). */
  seqGiven: boolean;
}

/**
 * streamGenericParseIDOrReply: `-`, `+` (refused when `strict`), `<ms>` (the sequence then
 * `missingSeq`), `<ms>-<seq>`, and with `seqStar` `<ms>-*`.
 */
export function parseId(text: string, missingSeq: bigint, strict: boolean, seqStar = false): ParsedId {
  // Redis copies the argument into a 128-byte buffer as a C string: longer is invalid, a NUL ends it.
  if (text.length > 127) throw new RespError(INVALID_ID);
  const nul = text.indexOf("\0");
  const buf = nul === -1 ? text : text.slice(0, nul);
  if (buf === "-" || buf === "+") {
    if (strict) throw new RespError(INVALID_ID);
    return buf === "-" ? { ...MIN_ID, seqGiven: true } : { ...MAX_ID, seqGiven: true };
  }
  const dash = buf.indexOf("-");
  const ms = parseU64(dash === -1 ? buf : buf.slice(0, dash));
  if (ms === undefined) throw new RespError(INVALID_ID);
  if (dash === -1) return { ms, seq: missingSeq, seqGiven: true };
  const rest = buf.slice(dash + 1);
  if (seqStar && rest === "*") return { ms, seq: 0n, seqGiven: false };
  const seq = parseU64(rest);
  if (seq === undefined) throw new RespError(INVALID_ID);
  return { ms, seq, seqGiven: true };
}

/** A strict ID (no `-`/`+`), its missing sequence 0: what XDEL, XACK, XCLAIM and XREAD take. */
export function strictId(text: string): Id {
  return parseId(text, 0n, true);
}

/**
 * A range bound (streamParseIntervalIDOrReply): `(` before a strict ID makes it exclusive,
 * which moves it one ID inwards (Redis's errors when that leaves the ID space).
 */
export function intervalBound(text: string, side: "start" | "end"): Id {
  const exclusive = text.length > 1 && text.startsWith("(");
  const missingSeq = side === "start" ? 0n : U64_MAX;
  const id = exclusive ? parseId(text.slice(1), missingSeq, true) : parseId(text, missingSeq, false);
  if (!exclusive) return id;
  const moved = side === "start" ? incrementId(id) : decrementId(id);
  if (moved === undefined) throw new RespError(`ERR invalid ${side} ID for the interval`);
  return moved;
}

export interface AddOrTrimArgs {
  trim: TrimOptions | undefined;
  noMkStream: boolean;
  /** XADD: where the ID argument is (the fields follow it). */
  idIndex: number;
  id: ParsedId | undefined;
}

/** Entries an approximate trim removes at most when no LIMIT is given: Redis's 100 × stream-node-max-entries. */
export const APPROXIMATE_TRIM_LIMIT = 10_000;

/** streamParseAddOrTrimArgsOrReply: the options of XADD (from args[2] to the ID) or of XTRIM (all of them). */
export function parseAddOrTrim(args: readonly string[], xadd: boolean): AddOrTrimArgs {
  let strategy: "maxlen" | "minid" | undefined;
  let approximate = false;
  let threshold: bigint | Id = 0n;
  let limit = 0n;
  let limitGiven = false;
  let noMkStream = false;
  let id: ParsedId | undefined;
  let i = 2;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    const option = (args[i] as string).toLowerCase();
    if (xadd && args[i] === "*") break;
    if ((option === "maxlen" || option === "minid") && more > 0) {
      if (strategy !== undefined) {
        throw new RespError("ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
      }
      approximate = false;
      const next = args[i + 1];
      if (more >= 2 && (next === "~" || next === "=")) {
        approximate = next === "~";
        i++;
      }
      if (option === "maxlen") {
        threshold = longLongArg(args[i + 1] as string);
        if (threshold < 0n) throw new RespError("ERR The MAXLEN argument must be >= 0.");
      } else {
        threshold = strictId(args[i + 1] as string);
      }
      strategy = option;
      i++;
    } else if (option === "limit" && more > 0) {
      limit = longLongArg(args[i + 1] as string);
      if (limit < 0n) throw new RespError("ERR The LIMIT argument must be >= 0.");
      limitGiven = true;
      i++;
    } else if (xadd && option === "nomkstream") {
      noMkStream = true;
    } else if (xadd) {
      id = parseId(args[i] as string, 0n, true, true);
      break;
    } else {
      throw syntaxError();
    }
  }
  if (limit !== 0n && strategy === undefined) {
    throw new RespError("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
  }
  if (!xadd && strategy === undefined) throw new RespError("ERR syntax error, XTRIM must be called with a trimming strategy");
  if (limitGiven && !approximate) {
    throw new RespError("ERR syntax error, LIMIT cannot be used without the special ~ option");
  }
  let trim: TrimOptions | undefined;
  if (strategy !== undefined) {
    const cap = approximate ? (limitGiven ? clampToNumber(limit) : APPROXIMATE_TRIM_LIMIT) : 0;
    trim =
      strategy === "maxlen"
        ? { maxLength: clampToNumber(threshold as bigint), approximate, limit: cap }
        : { minId: formatId(threshold as Id), approximate, limit: cap };
  }
  return { trim, noMkStream, idIndex: i, id };
}

/** What the store takes as a key, group, consumer or field given as a binary (latin1) string. */
export function bytesOf(binary: string): string | Uint8Array {
  for (let i = 0; i < binary.length; i++) {
    if (binary.charCodeAt(i) > 0x7f) return Buffer.from(binary, "latin1");
  }
  return binary;
}

export function storeKey(internal: string): Key {
  return bytesOf(internal);
}

export function storeName(binary: string): Name {
  return bytesOf(binary);
}

/** Field/value arguments (from `from` to the end) as the store's pairs. */
export function fieldPairs(args: readonly string[], from: number): [Name, Name][] {
  const pairs: [Name, Name][] = [];
  for (let i = from; i + 1 < args.length; i += 2) pairs.push([bytesOf(args[i] as string), bytesOf(args[i + 1] as string)]);
  return pairs;
}

/** An ID as the store prints it, back into its parts. */
export function idOf(text: string): Id {
  const dash = text.indexOf("-");
  return { ms: BigInt(text.slice(0, dash)), seq: BigInt(text.slice(dash + 1)) };
}
