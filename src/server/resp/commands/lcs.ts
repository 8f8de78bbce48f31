/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] (t_string.c lcsCommand): the
 * longest common subsequence of two strings by the textbook dynamic programme, walked back
 * from the end as Redis does, so ties resolve and ranges come out exactly as Redis's.
 *
 * The table holds (|a|+1)(|b|+1) 32-bit cells; it may not take more bytes than the longest
 * bulk string (Redis bounds it by proto-max-bulk-len too).
 */
import { type CommandSpec, syntaxError } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { bulk, integer, type Reply, RespError } from "../reply.js";
import { integerArgument, isWrongType, optionName } from "./string-args.js";

interface LcsOptions {
  length: boolean;
  indexes: boolean;
  withMatchLength: boolean;
  minMatchLength: number;
}

function lcs(context: CommandContext, args: string[]): Reply {
  const a = stringAt(context, args[1] as string);
  const b = stringAt(context, args[2] as string);
  const options = parseOptions(args);
  if (options.length && options.indexes) {
    throw new RespError("ERR If you want both the length and indexes, please just use IDX.");
  }
  const cells = (a.length + 1) * (b.length + 1);
  if (cells * Uint32Array.BYTES_PER_ELEMENT > context.host.settings.bulkBytesMax) {
    throw new RespError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  const table = lcsTable(a, b);
  const total = table[cells - 1] as number;
  if (options.length) return integer(total);
  return walkBack(a, b, table, total, options);
}

/** A key's string ("" when absent); a key of another kind is LCS's own error, not WRONGTYPE. */
function stringAt(context: CommandContext, name: string): string {
  try {
    return context.read(context.key(name))?.value ?? "";
  } catch (error) {
    if (isWrongType(error)) throw new RespError("ERR The specified keys must contain string values");
    throw error;
  }
}

function parseOptions(args: string[]): LcsOptions {
  const options: LcsOptions = { length: false, indexes: false, withMatchLength: false, minMatchLength: 0 };
  for (let j = 3; j < args.length; j++) {
    const option = optionName(args[j] as string);
    if (option === "idx") options.indexes = true;
    else if (option === "len") options.length = true;
    else if (option === "withmatchlen") options.withMatchLength = true;
    else if (option === "minmatchlen" && j < args.length - 1) {
      const value = integerArgument(args[++j] as string);
      options.minMatchLength = value < 0 ? 0 : Number(value);
    } else throw syntaxError();
  }
  return options;
}

/** table[i * (|b|+1) + j] = the LCS length of a[0..i) and b[0..j). */
function lcsTable(a: string, b: string): Uint32Array {
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = 1; i <= a.length; i++) {
    const row = i * width;
    const above = row - width;
    const char = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      if (char === b.charCodeAt(j - 1)) table[row + j] = (table[above + j - 1] as number) + 1;
      else {
        const up = table[above + j] as number;
        const left = table[row + j - 1] as number;
        table[row + j] = Math.max(up, left);
      }
    }
  }
  return table;
}

/**
 * From the table's end back to its start: the common subsequence itself, or with IDX its
 * matching ranges (last first), each as [[aStart, aEnd], [bStart, bEnd]] (and its length).
 */
function walkBack(a: string, b: string, table: Uint32Array, total: number, options: LcsOptions): Reply {
  const width = b.length + 1;
  const chars: string[] = new Array(total);
  const matches: Reply[] = [];
  let idx = total;
  let i = a.length;
  let j = b.length;
  // aStart === a.length: no range open.
  let aStart = a.length;
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      chars[idx - 1] = a[i - 1] as string;
      if (aStart === a.length) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else emit = true;
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if ((table[(i - 1) * width + j] as number) > (table[i * width + j - 1] as number)) i--;
      else j--;
      if (aStart !== a.length) emit = true;
    }
    if (emit) {
      const matchLength = aEnd - aStart + 1;
      if (options.indexes && (options.minMatchLength === 0 || matchLength >= options.minMatchLength)) {
        const range = `*2\r\n:${aStart}\r\n:${aEnd}\r\n*2\r\n:${bStart}\r\n:${bEnd}\r\n`;
        matches.push(options.withMatchLength ? `*3\r\n${range}:${matchLength}\r\n` : `*2\r\n${range}`);
      }
      aStart = a.length;
    }
  }
  if (!options.indexes) return bulk(chars.join(""));
  return `*4\r\n$7\r\nmatches\r\n*${matches.length}\r\n${matches.join("")}$3\r\nlen\r\n:${total}\r\n`;
}

export const lcsCommands: CommandSpec[] = [
  {
    name: "lcs",
    arity: -3,
    flags: ["readonly"],
    keys: { first: 1, last: 2, step: 1 },
    categories: ["@read", "@string", "@slow"],
    summary: "Find longest common substring",
    run: lcs,
  },
];
