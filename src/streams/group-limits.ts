/**
 * Ceilings on what grows in a consumer group from its callers' input, and the checks that
 * apply them. Past a ceiling, or for a value no command could mean, the caller gets
 * LOGBOOK_INVALID_ARGUMENT; a value of the wrong type is a TypeError.
 */
import { LogbookError } from "../errors.js";

/** UTF-8 bytes of a group's name. */
export const GROUP_NAME_BYTES_MAX = 4096;
/** UTF-8 bytes of a consumer's name. */
export const CONSUMER_NAME_BYTES_MAX = 4096;
/** UTF-8 bytes of a group's dead-letter key. */
export const DEAD_LETTER_KEY_BYTES_MAX = 65_536;
/** Consumers in one group: creating one more is refused. */
export const GROUP_CONSUMERS_MAX = 1 << 20;
/** IDs given to one call (a delivery, an ack, a claim). */
export const GROUP_IDS_PER_CALL_MAX = 1 << 20;
/** A count given to one call (a history read, a pending range, an autoclaim). */
export const GROUP_COUNT_MAX = 2 ** 31 - 1;
/** Scans per autoclaimed entry: an autoclaim of `count` looks at most at count × this PEL entries (Redis's attempts factor). */
export const AUTOCLAIM_ATTEMPTS_FACTOR = 10;

function invalid(message: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_ARGUMENT", message);
}

const encoder = new TextEncoder();

/** Checks a name or key: a well-formed string (so its UTF-8 form round-trips) of at most `maxBytes`. */
export function checkName(value: unknown, what: string, maxBytes: number): string {
  if (typeof value !== "string") throw new TypeError(`${what} is a string`);
  if (!value.isWellFormed()) throw invalid(`${what} has a lone surrogate and no UTF-8 form`);
  if (value.length > maxBytes || encoder.encode(value).length > maxBytes)
    throw invalid(`${what} is longer than ${maxBytes} UTF-8 bytes`);
  return value;
}

/** Checks a time in ms: a non-negative safe integer (every time is passed in, never read). */
export function checkMs(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new TypeError(`${what} is an integer of ms`);
  if (value < 0) throw invalid(`${what} is negative`);
  return value;
}

/** Checks a count: an integer from 0 to `max`. */
export function checkCount(value: unknown, what: string, max: number = GROUP_COUNT_MAX): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new TypeError(`${what} is an integer`);
  if (value < 0) throw invalid(`${what} is negative`);
  if (value > max) throw invalid(`${what} is above its ceiling of ${max}`);
  return value;
}

/** Checks a list of IDs given to one call. */
export function checkIdCount(ids: readonly unknown[], what: string): void {
  if (!Array.isArray(ids)) throw new TypeError(`${what} is an array of stream IDs`);
  if (ids.length > GROUP_IDS_PER_CALL_MAX) throw invalid(`${what} holds more than ${GROUP_IDS_PER_CALL_MAX} IDs`);
}
