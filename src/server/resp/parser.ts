/**
 * The request side of RESP: a streaming parser of the commands a client sends, as Redis reads
 * them (src/networking.c, processMultibulkBuffer and processInlineBuffer).
 *
 * A command is either a multibulk (`*<n>\r\n` then n bulk strings `$<len>\r\n<bytes>\r\n`) or an
 * inline line of words (`SET k v\r\n`, with Redis's quoting). Arguments come out as latin1
 * strings, one char per byte: the store's internal binary form, so a key or value is never
 * decoded and re-encoded on its way in.
 *
 * The parser keeps its place between chunks: a command split across reads is resumed where it
 * stopped, never re-read from its start, and a bulk string larger than a chunk is copied once
 * into a buffer of its declared size. Every count and length is checked against a limit before
 * anything is allocated for it; a violation throws ProtocolError with Redis's text, after which
 * the connection must be closed (the stream has lost its framing).
 */

export class ProtocolError extends Error {
  constructor(message: string) {
    super(`Protocol error: ${message}`);
    this.name = "ProtocolError";
  }
}

export interface ParserLimits {
  /** The longest bulk string (a key or value), in bytes. */
  bulkBytesMax: number;
  /** The most arguments one multibulk command may declare. */
  multibulkCountMax: number;
  /** The longest inline command line, and the longest `*`/`$` header line. */
  inlineBytesMax: number;
}

/** A parsed command and the bytes it took on the wire (for pipeline accounting). */
export type CommandSink = (args: string[], bytes: number) => void;

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);
/** Header lines (`*123\r\n`, `$123\r\n`) are short: a longer one is junk, however long the inline limit. */
const HEADER_LINE_MAX = 32;

export class RequestParser {
  private buffer: Buffer = EMPTY;
  private offset = 0;
  /** The multibulk being read: its arguments so far and how many are still to come (0: none open). */
  private args: string[] = [];
  private remaining = 0;
  private commandBytes = 0;
  /** A bulk string larger than what has arrived: its buffer, filled as chunks come. */
  private big: Buffer | undefined;
  private bigFilled = 0;

  constructor(private readonly limits: ParserLimits) {}

  /** Bytes received but not yet part of a whole command (the pipeline's unparsed tail). */
  get bufferedBytes(): number {
    return this.buffer.length - this.offset + this.bigFilled;
  }

  /** Parses every whole command in `chunk` (and what came before it), handing each to `sink` in order. */
  feed(chunk: Buffer, sink: CommandSink): void {
    if (this.big !== undefined) {
      chunk = this.fillBig(chunk, 0);
      if (this.big !== undefined) return;
      if (this.remaining === 0) this.emit(sink);
    }
    if (this.offset < this.buffer.length) {
      this.buffer = Buffer.concat([this.buffer.subarray(this.offset), chunk]);
    } else {
      this.buffer = chunk;
    }
    this.offset = 0;
    while (this.offset < this.buffer.length) {
      if (this.remaining > 0) {
        if (!this.readBulk()) break;
        if (this.remaining === 0) this.emit(sink);
        continue;
      }
      const first = this.buffer[this.offset];
      const done = first === 42 /* '*' */ ? this.readMultibulkHeader() : this.readInline(sink);
      if (!done) break;
    }
    if (this.offset >= this.buffer.length) {
      this.buffer = EMPTY;
      this.offset = 0;
    }
  }

  private emit(sink: CommandSink): void {
    const args = this.args;
    const bytes = this.commandBytes;
    this.args = [];
    this.commandBytes = 0;
    sink(args, bytes);
  }

  /** The index of the `\r` ending the line at `from`, -1 if the line is not complete yet. */
  private lineEnd(from: number, max: number, what: string): number {
    const end = this.buffer.indexOf(LF, from);
    if (end === -1) {
      if (this.buffer.length - from > max) throw new ProtocolError(`too big ${what}`);
      return -1;
    }
    if (end - from > max + 1) throw new ProtocolError(`too big ${what}`);
    return this.buffer[end - 1] === CR ? end - 1 : end;
  }

  /** `*<n>\r\n`: opens a multibulk of n arguments (a count of 0 or less is an empty command, skipped). */
  private readMultibulkHeader(): boolean {
    const start = this.offset;
    const end = this.lineEnd(start, HEADER_LINE_MAX, "mbulk count string");
    if (end === -1) return false;
    const count = parseLength(this.buffer, start + 1, end);
    if (Number.isNaN(count) || count > this.limits.multibulkCountMax) throw new ProtocolError("invalid multibulk length");
    this.offset = this.skipLineEnd(end);
    this.commandBytes = this.offset - start;
    if (count <= 0) {
      this.commandBytes = 0;
      return true;
    }
    this.remaining = count;
    this.args = [];
    return true;
  }

  /** `$<len>\r\n<bytes>\r\n`: one argument of the open multibulk. */
  private readBulk(): boolean {
    const start = this.offset;
    if (this.buffer[start] !== 36 /* '$' */) {
      throw new ProtocolError(`expected '$', got '${String.fromCharCode(this.buffer[start] as number)}'`);
    }
    const end = this.lineEnd(start, HEADER_LINE_MAX, "bulk count string");
    if (end === -1) return false;
    const length = parseLength(this.buffer, start + 1, end);
    if (Number.isNaN(length) || length < 0 || length > this.limits.bulkBytesMax) throw new ProtocolError("invalid bulk length");
    const dataStart = this.skipLineEnd(end);
    const available = this.buffer.length - dataStart;
    if (available >= length + 2) {
      this.args.push(this.buffer.toString("latin1", dataStart, dataStart + length));
      this.offset = dataStart + length + 2;
      this.commandBytes += this.offset - start;
      this.remaining--;
      return true;
    }
    if (length + 2 <= 16 * 1024) return false; // small: wait for the rest, re-read the short header then
    // Large: copy what is here into a buffer of its own size and fill it from the chunks to come.
    this.big = Buffer.allocUnsafe(length + 2);
    this.bigFilled = 0;
    this.commandBytes += dataStart - start;
    this.fillBig(this.buffer, dataStart);
    this.offset = this.buffer.length;
    return false;
  }

  /** Copies from `chunk` (from `from`) into the open large bulk; returns what is left of the chunk. */
  private fillBig(chunk: Buffer, from: number): Buffer {
    const big = this.big as Buffer;
    const take = Math.min(big.length - this.bigFilled, chunk.length - from);
    chunk.copy(big, this.bigFilled, from, from + take);
    this.bigFilled += take;
    if (this.bigFilled < big.length) return EMPTY;
    if (big[big.length - 2] !== CR || big[big.length - 1] !== LF) throw new ProtocolError("invalid bulk length");
    this.args.push(big.toString("latin1", 0, big.length - 2));
    this.commandBytes += big.length;
    this.big = undefined;
    this.bigFilled = 0;
    this.remaining--;
    return chunk.subarray(from + take);
  }

  /** One inline command line: words split as Redis's sdssplitargs does (quotes, escapes). */
  private readInline(sink: CommandSink): boolean {
    const start = this.offset;
    const end = this.lineEnd(start, this.limits.inlineBytesMax, "inline request");
    if (end === -1) return false;
    const line = this.buffer.toString("latin1", start, end);
    this.offset = this.skipLineEnd(end);
    const args = splitInline(line);
    if (args === undefined) throw new ProtocolError("unbalanced quotes in request");
    if (args.length > this.limits.multibulkCountMax) throw new ProtocolError("invalid multibulk length");
    for (const arg of args) if (arg.length > this.limits.bulkBytesMax) throw new ProtocolError("invalid bulk length");
    if (args.length > 0) sink(args, this.offset - start);
    return true;
  }

  private skipLineEnd(end: number): number {
    return this.buffer[end] === CR ? end + 2 : end + 1;
  }
}

/** A decimal integer (optionally negative) in bytes [from, to); NaN when it is not one or too long. */
function parseLength(buffer: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 18) return Number.NaN;
  let negative = false;
  let at = from;
  if (buffer[at] === 45 /* '-' */) {
    negative = true;
    at++;
    if (at === to) return Number.NaN;
  }
  let value = 0;
  for (; at < to; at++) {
    const digit = (buffer[at] as number) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

const HEX = /^[0-9a-fA-F]{2}$/;
const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" };

/**
 * Splits an inline line into words as Redis's sdssplitargs: spaces separate; "double quotes"
 * take \n \r \t \b \a \xHH and \" escapes; 'single quotes' take \' only; a closing quote must
 * be followed by a space or the end. Undefined when quotes are unbalanced.
 */
export function splitInline(line: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) return words;
    let word = "";
    let quote: '"' | "'" | undefined;
    for (;;) {
      if (quote === undefined) {
        if (i >= n || isSpace(line.charCodeAt(i))) break;
        const c = line[i] as string;
        if (c === '"' || c === "'") quote = c;
        else word += c;
        i++;
        continue;
      }
      if (i >= n) return undefined;
      const c = line[i] as string;
      if (quote === '"' && c === "\\" && i + 3 < n && line[i + 1] === "x" && HEX.test(line.slice(i + 2, i + 4))) {
        word += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
        i += 4;
      } else if (c === "\\" && i + 1 < n && (quote === '"' || line[i + 1] === "'")) {
        const next = line[i + 1] as string;
        word += quote === '"' ? (ESCAPES[next] ?? next) : next;
        i += 2;
      } else if (c === quote) {
        i++;
        if (i < n && !isSpace(line.charCodeAt(i))) return undefined;
        quote = undefined;
        break;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 11 || code === 12;
}
