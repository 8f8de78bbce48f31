/**
 * Redis's texts for the errors of consumer-group commands, naming the key as the client named
 * it. The store's own NOGROUP text names its internal key (with the tenant's prefix), so a
 * store NOGROUP is replaced by the text of the command that got it.
 */
import { isLogbookError } from "../../../errors.js";
import type { CommandContext } from "../context.js";
import { RespError } from "../reply.js";

/** XPENDING, XCLAIM, XAUTOCLAIM. */
export function noKeyOrGroup(key: string, group: string): RespError {
  return new RespError(`NOGROUP No such key '${key}' or consumer group '${group}'`);
}

/** XREADGROUP. */
export function noKeyOrGroupToRead(key: string, group: string): RespError {
  return new RespError(`NOGROUP No such key '${key}' or consumer group '${group}' in XREADGROUP with GROUP option`);
}

/** XGROUP SETID/CREATECONSUMER/DELCONSUMER, XINFO CONSUMERS. */
export function noGroupForKey(key: string, group: string): RespError {
  return new RespError(`NOGROUP No such consumer group '${group}' for key name '${key}'`);
}

/** A rejection handler: the store's NOGROUP becomes `error`, anything else passes. */
export function noGroupAs(error: RespError): (reason: unknown) => never {
  return (reason) => {
    if (isLogbookError(reason, "LOGBOOK_NO_GROUP")) throw error;
    throw reason;
  };
}

/** Runs `read`, turning the store's NOGROUP into `error`. */
export function withGroup<T>(error: () => RespError, read: () => T): T {
  try {
    return read();
  } catch (reason) {
    if (isLogbookError(reason, "LOGBOOK_NO_GROUP")) throw error();
    throw reason;
  }
}

export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";

/** Whether `key` holds a stream now (applied state); WRONGTYPE when it holds a string. */
export function holdsStream(context: CommandContext, key: string): boolean {
  const kind = context.store.keyspace.kindOf(key);
  if (kind === "string") throw new RespError(WRONGTYPE);
  return kind === "stream";
}
