/**
 * Single bits of a string (bitops.c): SETBIT and GETBIT. Bit 0 is the most significant bit of
 * byte 0. SETBIT grows the value with zero bytes to reach its bit (up to the longest bulk
 * string) and keeps the key's expiry; it writes only when the value changes.
 */
import type { CommandSpec } from "../command-spec.js";
import type { CommandContext } from "../context.js";
import { ONE, type Reply, RespError, ZERO } from "../reply.js";
import { parseInt64 } from "./int64.js";
import { keptExpiry, ONE_KEY } from "./string-args.js";

/** A bit offset: an int64, at least 0, in a byte below the longest bulk string (getBitOffsetFromArgument). */
function bitOffset(context: CommandContext, text: string): number {
  const offset = parseInt64(text);
  if (offset === undefined || offset < 0 || Math.floor(Number(offset) / 8) >= context.host.settings.bulkBytesMax) {
    throw new RespError("ERR bit offset is not an integer or out of range");
  }
  return Number(offset);
}

function setbit(context: CommandContext, args: string[]): Reply | Promise<Reply> {
  const offset = bitOffset(context, args[2] as string);
  const on = args[3];
  if (on !== "0" && on !== "1") throw new RespError("ERR bit is not an integer or out of range");
  const key = context.key(args[1] as string);
  const entry = context.latest(key);
  const old = entry === undefined ? "" : entry.value;
  const byte = offset >>> 3;
  const mask = 1 << (7 - (offset & 7));
  const current = byte < old.length ? old.charCodeAt(byte) : 0;
  const reply = (current & mask) === 0 ? ZERO : ONE;
  const updated = on === "1" ? current | mask : current & ~mask;
  // Unchanged: neither the bit nor the length (a new or grown value is a change even with a 0 bit).
  if (updated === current && byte < old.length) return reply;
  const head = byte <= old.length ? old.slice(0, byte) : old + "\0".repeat(byte - old.length);
  const value = head + String.fromCharCode(updated) + old.slice(byte + 1);
  return context.write([{ type: "put", key, value, expiresAt: keptExpiry(entry) }]).then(() => reply);
}

function getbit(context: CommandContext, args: string[]): Reply {
  const offset = bitOffset(context, args[2] as string);
  const entry = context.read(context.key(args[1] as string));
  if (entry === undefined) return ZERO;
  const byte = offset >>> 3;
  if (byte >= entry.value.length) return ZERO;
  return (entry.value.charCodeAt(byte) & (1 << (7 - (offset & 7)))) === 0 ? ZERO : ONE;
}

export const bitCommands: CommandSpec[] = [
  {
    name: "setbit",
    arity: 4,
    flags: ["write", "denyoom"],
    keys: ONE_KEY,
    categories: ["@write", "@bitmap", "@slow"],
    summary: "Sets or clears the bit at offset in the string value stored at key",
    run: setbit,
  },
  {
    name: "getbit",
    arity: 3,
    flags: ["readonly", "fast"],
    keys: ONE_KEY,
    categories: ["@read", "@bitmap", "@fast"],
    summary: "Returns the bit value at offset in the string value stored at key",
    run: getbit,
  },
];
