/**
 * The reply side of RESP2: a command's reply is built as its wire form, a latin1 string (one
 * char per byte, as arguments arrive), so values read from the store go out without decoding,
 * and a connection writes the replies of a whole pipeline in one socket write.
 *
 * Errors are thrown, not returned: a command throws RespError with Redis's prefix and text
 * (`WRONGTYPE …`, `ERR syntax error`), and the connection encodes it (errors.ts maps the
 * store's typed errors).
 */

/** An encoded reply, ready for the wire. */
export type Reply = string;

export const OK: Reply = "+OK\r\n";
export const NIL: Reply = "$-1\r\n";
export const NIL_ARRAY: Reply = "*-1\r\n";
export const EMPTY_ARRAY: Reply = "*0\r\n";
export const QUEUED: Reply = "+QUEUED\r\n";
export const PONG: Reply = "+PONG\r\n";
export const ZERO: Reply = ":0\r\n";
export const ONE: Reply = ":1\r\n";

/** A reply that is an error: thrown by commands, encoded by the connection. `message` starts with its prefix. */
export class RespError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RespError";
  }

  /** The first word: the prefix clients and errorstats key on (`ERR`, `WRONGTYPE`, …). */
  get prefix(): string {
    const space = this.message.indexOf(" ");
    return space === -1 ? this.message : this.message.slice(0, space);
  }
}

export function simple(text: string): Reply {
  return `+${text}\r\n`;
}

/** A bulk string from a latin1 (binary) string. */
export function bulk(value: string): Reply {
  return `$${value.length}\r\n${value}\r\n`;
}

/** A bulk string from text that may hold any Unicode (encoded as UTF-8 on the wire). */
export function bulkText(text: string): Reply {
  return bulk(Buffer.from(text, "utf8").toString("latin1"));
}

export function bulkOrNil(value: string | undefined): Reply {
  return value === undefined ? NIL : bulk(value);
}

export function integer(value: number | bigint): Reply {
  return `:${value}\r\n`;
}

/** An array of replies already encoded. */
export function array(items: readonly Reply[]): Reply {
  return `*${items.length}\r\n${items.join("")}`;
}

/** An array of bulk strings (nil for undefined items). */
export function bulkArray(values: readonly (string | undefined)[]): Reply {
  let out = `*${values.length}\r\n`;
  for (const value of values) out += value === undefined ? NIL : `$${value.length}\r\n${value}\r\n`;
  return out;
}

/** An error reply's wire form: its text on one line (newlines would break the framing). */
export function errorReply(message: string): Reply {
  return `-${message.replace(/[\r\n]+/g, " ")}\r\n`;
}

/**
 * A double as Redis prints INCRBYFLOAT's result: plain decimal, no exponent, no trailing zeros.
 * Redis computes in long double; the shortest text that reads back as the same double is what
 * its 17-digit long double output rounds to for the values clients send.
 */
export function formatDouble(value: number): string {
  const text = String(value);
  if (!text.includes("e")) return text;
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  return exponent >= 0 ? BigInt(value).toString() : value.toFixed(Math.min(100, 17 - exponent)).replace(/\.?0+$/, "");
}
