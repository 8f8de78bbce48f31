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
 * stopped, and a line's search for its end goes on from where the last one gave up, so a client
 * sending a byte at a time costs time in proportion to its bytes, not their square. Unconsumed
 * bytes are appended to a buffer that grows by doubling; a bulk string larger than a chunk gets a
 * buffer of its own that also grows with what arrives, so a declared length costs memory only
 * once its bytes come. Every count and length is checked against a limit before it is used; a
 * violation throws ProtocolError with Redis's text, after which the connection must be closed
 * (the stream has lost its framing).
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
  /** The longest inline command line. */
  inlineBytesMax: number;
}

/** A parsed command and the bytes it took on the wire (for pipeline accounting). */
export type CommandSink = (args: string[], bytes: number) => void;

const CR = 13;
const LF = 10;
const EMPTY = Buffer.alloc(0);
/** Header lines (`*123\r\n`, `$123\r\n`) are short: a longer one is junk, however long the inline limit. */
const HEADER_LINE_MAX = 32;
/** Before AUTH (when tokens are configured) a command has at most this many arguments, as in Redis. */
export const UNAUTHENTICATED_ARGS_MAX = 10;
/** ...each of at most this many bytes. */
export const UNAUTHENTICATED_BULK_BYTES_MAX = 16 * 1024;
/** A bulk string up to this size waits in the shared buffer; a larger one gets its own. */
const BIG_BULK_BYTES_MIN = 16 * 1024;
/** The first size of a large bulk's own buffer (it doubles as bytes arrive, up to the declared size). */
const BIG_BULK_INITIAL_BYTES = 64 * 1024;
/** An emptied append buffer up to this size is kept for the next split command. */
const SPARE_BYTES_MAX = 128 * 1024;

export class RequestParser {
  /** Received, unconsumed bytes: buffer[start, end). Either a chunk as received or `spare`, ours to append into. */
  private buffer: Buffer = EMPTY;
  private start = 0;
  private end = 0;
  private spare: Buffer | undefined;
  /** Bytes from `start` already searched for a line end without finding one. */
  private searched = 0;
  /** The multibulk being read: its arguments so far and how many are still to come (0: none open). */
  private args: string[] = [];
  private remaining = 0;
  private commandBytes = 0;
  /** A bulk string larger than what has arrived: its buffer (grown as bytes come), its declared size with CRLF. */
  private big: Buffer | undefined;
  private bigFilled = 0;
  private bigBytes = 0;

  /** `authRequired`: true while the client must still AUTH (tighter limits apply then). */
  constructor(
    private readonly limits: ParserLimits,
    private readonly authRequired: () => boolean = () => false,
  ) {}

  /** Bytes received but not yet part of a whole command (the pipeline's unparsed tail). */
  get bufferedBytes(): number {
    return this.end - this.start + this.bigFilled;
  }

  /** Bytes of memory the parser holds for unparsed input (buffers, whatever their fill). */
  get heldBytes(): number {
    return (this.buffer === this.spare ? 0 : this.end - this.start) + (this.spare?.length ?? 0) + (this.big?.length ?? 0);
  }

  /** Parses every whole command in `chunk` (and what came before it), handing each to `sink` in order. */
  feed(chunk: Buffer, sink: CommandSink): void {
    if (this.big !== undefined) {
      chunk = this.fillBig(chunk, 0);
      if (this.big !== undefined) return;
      if (this.remaining === 0) this.emit(sink);
    }
    this.append(chunk);
    while (this.start < this.end) {
      if (this.remaining > 0) {
        if (!this.readBulk()) break;
        if (this.remaining === 0) this.emit(sink);
        continue;
      }
      const first = this.buffer[this.start];
      const done = first === 42 /* '*' */ ? this.readMultibulkHeader() : this.readInline(sink);
      if (!done) break;
    }
    if (this.start === this.end) this.release();
  }

  /** Adds `chunk` after the unconsumed bytes: used as it is when nothing is left over, else copied to the spare buffer. */
  private append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const leftover = this.end - this.start;
    if (leftover === 0) {
      this.buffer = chunk;
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    const needed = leftover + chunk.length;
    let target = this.spare;
    if (target === undefined || target.length < needed) {
      target = Buffer.allocUnsafe(Math.max(needed, 2 * leftover, 4096));
    }
    if (target !== this.buffer || this.start !== 0) this.buffer.copy(target, 0, this.start, this.end);
    chunk.copy(target, leftover);
    this.spare = target;
    this.buffer = target;
    this.start = 0;
    this.end = needed;
  }

  /** Nothing is left unconsumed: drop the reference to the last chunk, and the spare buffer if it grew large. */
  private release(): void {
    if (this.spare !== undefined && this.spare.length > SPARE_BYTES_MAX) this.spare = undefined;
    this.buffer = EMPTY;
    this.start = 0;
    this.end = 0;
    this.searched = 0;
  }

  private consumeTo(at: number): void {
    this.start = at;
    this.searched = 0;
  }

  private emit(sink: CommandSink): void {
    const args = this.args;
    const bytes = this.commandBytes;
    this.args = [];
    this.commandBytes = 0;
    sink(args, bytes);
  }

  /** The index of the end of the line at `start` (its `\r`, or its `\n` alone), -1 if the line is not complete yet. */
  private lineEnd(max: number, what: string): number {
    const from = this.start;
    // The spare buffer holds stale bytes past `end`: search only up to it.
    const buffer = this.end === this.buffer.length ? this.buffer : this.buffer.subarray(0, this.end);
    const newline = buffer.indexOf(LF, from + this.searched);
    if (newline === -1) {
      this.searched = this.end - from;
      if (this.searched > max) throw new ProtocolError(`too big ${what}`);
      return -1;
    }
    const end = newline > from && this.buffer[newline - 1] === CR ? newline - 1 : newline;
    if (end - from > max) throw new ProtocolError(`too big ${what}`);
    return end;
  }

  /** `*<n>\r\n`: opens a multibulk of n arguments (a count of 0 or less is an empty command, skipped). */
  private readMultibulkHeader(): boolean {
    const start = this.start;
    const end = this.lineEnd(HEADER_LINE_MAX, "mbulk count string");
    if (end === -1) return false;
    const count = parseLength(this.buffer, start + 1, end);
    if (Number.isNaN(count) || count > this.limits.multibulkCountMax) throw new ProtocolError("invalid multibulk length");
    if (count > UNAUTHENTICATED_ARGS_MAX && this.authRequired()) throw new ProtocolError("unauthenticated multibulk length");
    this.consumeTo(this.skipLineEnd(end));
    if (count <= 0) return true;
    this.commandBytes = this.start - start;
    this.remaining = count;
    this.args = [];
    return true;
  }

  /** `$<len>\r\n<bytes>\r\n`: one argument of the open multibulk. */
  private readBulk(): boolean {
    const start = this.start;
    if (this.buffer[start] !== 36 /* '$' */) {
      throw new ProtocolError(`expected '$', got '${String.fromCharCode(this.buffer[start] as number)}'`);
    }
    const end = this.lineEnd(HEADER_LINE_MAX, "bulk count string");
    if (end === -1) return false;
    const length = parseLength(this.buffer, start + 1, end);
    if (Number.isNaN(length) || length < 0 || length > this.limits.bulkBytesMax) throw new ProtocolError("invalid bulk length");
    if (length > UNAUTHENTICATED_BULK_BYTES_MAX && this.authRequired()) throw new ProtocolError("unauthenticated bulk length");
    const dataStart = this.skipLineEnd(end);
    const available = this.end - dataStart;
    if (available >= length + 2) {
      // Redis skips the two bytes after the data without looking at them; so does this.
      this.args.push(this.buffer.toString("latin1", dataStart, dataStart + length));
      this.consumeTo(dataStart + length + 2);
      this.commandBytes += this.start - start;
      this.remaining--;
      return true;
    }
    // Small: wait for the rest and read the short header again then.
    if (length + 2 <= BIG_BULK_BYTES_MIN) return false;
    this.bigBytes = length + 2;
    this.big = Buffer.allocUnsafe(Math.min(this.bigBytes, Math.max(BIG_BULK_INITIAL_BYTES, 2 * available)));
    this.bigFilled = 0;
    this.commandBytes += dataStart - start;
    this.fillBig(this.buffer.subarray(0, this.end), dataStart);
    this.consumeTo(this.end);
    return false;
  }

  /** Copies from `chunk` (from `from`) into the open large bulk; returns what is left of the chunk. */
  private fillBig(chunk: Buffer, from: number): Buffer {
    const take = Math.min(this.bigBytes - this.bigFilled, chunk.length - from);
    let big = this.big as Buffer;
    if (this.bigFilled + take > big.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.bigBytes, Math.max(2 * big.length, this.bigFilled + take)));
      big.copy(grown, 0, 0, this.bigFilled);
      this.big = big = grown;
    }
    chunk.copy(big, this.bigFilled, from, from + take);
    this.bigFilled += take;
    if (this.bigFilled < this.bigBytes) return EMPTY;
    this.args.push(big.toString("latin1", 0, this.bigBytes - 2));
    this.commandBytes += this.bigBytes;
    this.big = undefined;
    this.bigFilled = 0;
    this.bigBytes = 0;
    this.remaining--;
    return chunk.subarray(from + take);
  }

  /** One inline command line: words split as Redis's sdssplitargs does (quotes, escapes). */
  private readInline(sink: CommandSink): boolean {
    const start = this.start;
    const end = this.lineEnd(this.limits.inlineBytesMax, "inline request");
    if (end === -1) return false;
    const line = this.buffer.toString("latin1", start, end);
    this.consumeTo(this.skipLineEnd(end));
    const args = splitInline(line);
    if (args === undefined) throw new ProtocolError("unbalanced quotes in request");
    if (args.length > this.limits.multibulkCountMax) throw new ProtocolError("invalid multibulk length");
    if (args.length > 0) sink(args, this.start - start);
    return true;
  }

  private skipLineEnd(end: number): number {
    return this.buffer[end] === CR ? end + 2 : end + 1;
  }
}

/**
 * A decimal integer (optionally negative) in bytes [from, to), as Redis's string2ll reads one:
 * no sign but '-', no leading zeros, no spaces. NaN when it is not one or is too long.
 */
function parseLength(buffer: Buffer, from: number, to: number): number {
  if (to <= from || to - from > 18) return Number.NaN;
  let negative = false;
  let at = from;
  if (buffer[at] === 45 /* '-' */) {
    negative = true;
    at++;
    if (at === to) return Number.NaN;
  }
  if (buffer[at] === 48 /* '0' */) return at + 1 === to && !negative ? 0 : Number.NaN;
  let value = 0;
  for (; at < to; at++) {
    const digit = (buffer[at] as number) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" };

/**
 * Splits an inline line into words as Redis's sdssplitargs: blanks (isspace) separate words, but
 * only space, \t, \r and \n end an unquoted one; "double quotes" take \n \r \t \b \a \xHH and
 * backslash-anything escapes; 'single quotes' take \' only; a closing quote must be followed by
 * a blank or the end. A NUL ends the line (sdssplitargs reads a C string): inside quotes that
 * leaves them unbalanced. Undefined when quotes are unbalanced.
 */
export function splitInline(line: string): string[] | undefined {
  const words: string[] = [];
  const nul = line.indexOf("\0");
  const n = nul === -1 ? line.length : nul;
  let i = 0;
  while (true) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n) return words;
    let word = "";
    let quote: '"' | "'" | undefined;
    for (;;) {
      if (quote === undefined) {
        if (i >= n || endsWord(line.charCodeAt(i))) break;
        const c = line[i] as string;
        if (c === '"' || c === "'") quote = c;
        else word += c;
        i++;
        continue;
      }
      if (i >= n) return undefined;
      const c = line[i] as string;
      if (quote === '"' && c === "\\" && i + 3 < n && line[i + 1] === "x" && isHex(line, i + 2) && isHex(line, i + 3)) {
        word += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
        i += 4;
      } else if (c === "\\" && i + 1 < n && (quote === '"' || line[i + 1] === "'")) {
        const next = line[i + 1] as string;
        word += quote === '"' ? (ESCAPES[next] ?? next) : next;
        i += 2;
      } else if (c === quote) {
        i++;
        if (i < n && !isBlank(line.charCodeAt(i))) return undefined;
        break;
      } else {
        word += c;
        i++;
      }
    }
    words.push(word);
  }
}

/** C's isspace: space, \t, \n, \v, \f, \r. */
function isBlank(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/** What ends an unquoted word in sdssplitargs (not \v or \f, which it keeps). */
function endsWord(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

function isHex(line: string, at: number): boolean {
  const code = line.charCodeAt(at);
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}
