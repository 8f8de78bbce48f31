/**
 * The errors a stream command can end in. Their messages are Redis's own texts (without its
 * `ERR`/`WRONGTYPE` prefixes), so the Redis-protocol front end can pass them on as they are:
 * clients and Redis's test suite match on them. The code says what kind of error it is.
 */
import { LogbookError } from "../errors.js";

export function wrongType(key: string): LogbookError {
  return new LogbookError("LOGBOOK_WRONG_TYPE", "Operation against a key holding the wrong kind of value", { key });
}

export function noGroup(key: string, group: string, command: string): LogbookError {
  const where = command === "XREADGROUP" ? " in XREADGROUP with GROUP option" : "";
  return new LogbookError("LOGBOOK_NO_GROUP", `No such key '${key}' or consumer group '${group}'${where}`, { key });
}

export function groupExists(key: string): LogbookError {
  return new LogbookError("LOGBOOK_GROUP_EXISTS", "Consumer Group name already exists", { key });
}

export function noSuchKey(key: string): LogbookError {
  return new LogbookError("LOGBOOK_NOT_FOUND", "no such key", { key });
}

export function groupNeedsKey(key: string): LogbookError {
  return new LogbookError(
    "LOGBOOK_NOT_FOUND",
    "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
    { key },
  );
}

export function invalidStream(message: string, key: string): LogbookError {
  return new LogbookError("LOGBOOK_INVALID_ARGUMENT", message, { key });
}

export const ADD_ID_NOT_ABOVE_ZERO = "The ID specified in XADD must be greater than 0-0";
export const ADD_ID_TOO_SMALL = "The ID specified in XADD is equal or smaller than the target stream top item";
export const ID_EXHAUSTED = "The stream has exhausted the last possible ID, unable to add more items";
export const SETID_TOO_SMALL = "The ID specified in XSETID is smaller than the target stream top item";
export const SETID_ENTRIES_ADDED_TOO_SMALL = "The entries_added specified in XSETID is smaller than the target stream length";
export const SETID_BELOW_MAX_DELETED = "The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
