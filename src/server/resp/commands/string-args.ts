/**
 * What the string commands share: reading integer arguments as Redis does, its error texts,
 * the ceiling on a string's length, and the small replies they hand back once a write is durable.
 */
import { LogbookError } from "../../../errors.js";
import type { KeyspaceEntry } from "../../../store/index.js";
import type { CommandContext } from "../context.js";
import { OK, type Reply, RespError } from "../reply.js";
import { parseInt64 } from "./int64.js";

/** Where a one-key command's key is, for COMMAND INFO. */
export const ONE_KEY = { first: 1, last: 1, step: 1 };

export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";
export const NOT_A_FLOAT = "ERR value is not a valid float";

/** An int64 argument (getLongLongFromObjectOrReply), or RespError with `message`. */
export function integerArgument(text: string, message: string = NOT_AN_INTEGER): number | bigint {
  const value = parseInt64(text);
  if (value === undefined) throw new RespError(message);
  return value;
}

/**
 * The ceiling on a string value (Redis's checkStringLength): a command that would make one
 * longer than the longest bulk string a client may send refuses, so every value can be sent back.
 */
export function checkStringLength(context: CommandContext, size: number, append: number): void {
  if (size + append > context.host.settings.bulkBytesMax) {
    throw new RespError("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
  }
}

/** The expiry a write that changes a value in place keeps (INCR, APPEND, SETRANGE, SETBIT keep a key's TTL). */
export function keptExpiry(entry: KeyspaceEntry | undefined): number {
  return entry === undefined ? 0 : entry.expiresAt;
}

/** An option as Redis compares it: as a C string (up to a NUL byte), in any case. */
export function optionName(arg: string): string {
  const nul = arg.indexOf("\0");
  return (nul === -1 ? arg : arg.slice(0, nul)).toLowerCase();
}

/** Whether `error` is the store's refusal of a key that holds a stream. */
export function isWrongType(error: unknown): boolean {
  return error instanceof LogbookError && error.code === "LOGBOOK_WRONG_TYPE";
}

/** A hoisted callback for `.then`: a write's reply without a closure per call. */
export const replyOk = (): Reply => OK;
