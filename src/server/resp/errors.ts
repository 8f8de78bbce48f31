/**
 * The store's typed errors as Redis error replies: the prefix clients and Redis's tests match
 * on (`WRONGTYPE`, `NOGROUP`, `BUSYGROUP`, `MISCONF`), then the text. Stream errors already
 * carry Redis's texts (src/streams/stream-errors.ts).
 */
import { LogbookError } from "../../errors.js";
import { RespError } from "./reply.js";

export function asRespError(error: unknown): RespError {
  if (error instanceof RespError) return error;
  if (!(error instanceof LogbookError)) {
    return new RespError(`ERR ${error instanceof Error ? error.message : String(error)}`);
  }
  switch (error.code) {
    case "LOGBOOK_WRONG_TYPE":
      return new RespError("WRONGTYPE Operation against a key holding the wrong kind of value");
    case "LOGBOOK_NO_GROUP":
      return new RespError(`NOGROUP ${error.message}`);
    case "LOGBOOK_GROUP_EXISTS":
      return new RespError(`BUSYGROUP ${error.message}`);
    case "LOGBOOK_OVERLOADED":
      return new RespError(`TRYAGAIN ${error.message}`);
    case "LOGBOOK_LOG_FAILED":
    case "LOGBOOK_NO_SPACE":
    case "LOGBOOK_IO":
      // Redis's answer when its AOF cannot be written: writes are refused, reads go on.
      return new RespError(`MISCONF Errors writing to the log: ${error.message}`);
    case "LOGBOOK_READ_ONLY":
      return new RespError(`READONLY ${error.message}`);
    case "LOGBOOK_CLOSED":
      return new RespError(`LOADING ${error.message}`);
    default:
      return new RespError(`ERR ${error.message}`);
  }
}
