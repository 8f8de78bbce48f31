/**
 * Keys and values as users give them, and as the store keeps them. Inside, both are
 * "binary strings": one char per byte (latin1). V8 keeps those as one-byte strings, which
 * costs ~16 bytes of header against ~100 for a Uint8Array, and compares them in byte order,
 * which is the order keys are sorted in.
 */
import { LogbookError } from "../errors.js";

export type Key = string | Uint8Array;
export type KeyEncoding = "utf8" | "binary";
export type ValueEncoding = "json" | "utf8" | "binary";

/** Pure ASCII: its UTF-8 bytes are its chars, so it is its own binary string (no conversion). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range is meant
const ASCII = /^[\u0000-\u007f]*$/;

/**
 * The same test as a loop, for keys: they are short, and on a freshly concatenated key (a cons
 * string) a loop over char codes is cheaper than the regex, which flattens it first.
 */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

export function keyToInternal(key: unknown, keyBytesMax: number): string {
  if (typeof key === "string" && key.length <= keyBytesMax && isAscii(key)) return key;
  let bytes: Buffer;
  if (typeof key === "string") {
    if (!key.isWellFormed())
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "a string key must be well-formed UTF-16 (no lone surrogates)");
    bytes = Buffer.from(key, "utf8");
  } else if (key instanceof Uint8Array) {
    bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  } else {
    throw new TypeError("a key must be a string or a Uint8Array");
  }
  if (bytes.byteLength > keyBytesMax) {
    throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", `key of ${bytes.byteLength} bytes exceeds keyBytesMax ${keyBytesMax}`);
  }
  return bytes.toString("latin1");
}

export function internalToKey(internal: string, encoding: KeyEncoding): Key {
  if (encoding === "utf8" && ASCII.test(internal)) return internal;
  const bytes = Buffer.from(internal, "latin1");
  return encoding === "utf8" ? bytes.toString("utf8") : new Uint8Array(bytes);
}

export function valueToInternal(value: unknown, encoding: ValueEncoding, valueBytesMax: number): string {
  let bytes: Buffer;
  if (encoding === "binary") {
    if (!(value instanceof Uint8Array)) throw new TypeError("with valueEncoding binary a value must be a Uint8Array");
    bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  } else if (encoding === "utf8") {
    if (typeof value !== "string") throw new TypeError("with valueEncoding utf8 a value must be a string");
    if (value.length <= valueBytesMax && ASCII.test(value)) return value;
    if (!value.isWellFormed()) throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "a string value must be well-formed UTF-16");
    bytes = Buffer.from(value, "utf8");
  } else {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new LogbookError("LOGBOOK_INVALID_ARGUMENT", "the value cannot be encoded as JSON", { cause: error });
    }
    if (text === undefined)
      throw new LogbookError(
        "LOGBOOK_INVALID_ARGUMENT",
        "the value cannot be encoded as JSON (undefined, a function or a symbol)",
      );
    bytes = Buffer.from(text, "utf8");
  }
  if (bytes.byteLength > valueBytesMax) {
    throw new LogbookError(
      "LOGBOOK_INVALID_ARGUMENT",
      `value of ${bytes.byteLength} bytes exceeds valueBytesMax ${valueBytesMax}`,
    );
  }
  return bytes.toString("latin1");
}

export function internalToValue(internal: string, encoding: ValueEncoding): unknown {
  if (encoding === "binary") return new Uint8Array(Buffer.from(internal, "latin1"));
  const text = ASCII.test(internal) ? internal : Buffer.from(internal, "latin1").toString("utf8");
  return encoding === "utf8" ? text : JSON.parse(text);
}

/** The smallest key greater than every key starting with `prefix`, or undefined when there is none. */
export function prefixEnd(prefix: string): string | undefined {
  let end = prefix;
  while (end.length > 0) {
    const last = end.charCodeAt(end.length - 1);
    if (last < 0xff) return end.slice(0, -1) + String.fromCharCode(last + 1);
    end = end.slice(0, -1);
  }
  return undefined;
}
