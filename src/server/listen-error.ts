/**
 * Why the server could not listen, as a typed error: the address is taken by another process
 * (LOGBOOK_ADDRESS_IN_USE), or it is not one this machine may listen on (LOGBOOK_INVALID_OPTION).
 * Any other error passes unchanged.
 */
import { errnoCode, LogbookError } from "../errors.js";

export function asListenError(error: unknown, host: string, port: number): unknown {
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  switch (errnoCode(error)) {
    case "EADDRINUSE":
      return new LogbookError(
        "LOGBOOK_ADDRESS_IN_USE",
        `${address} is already in use by another process (choose another --port)`,
        {
          cause: error,
        },
      );
    case "EADDRNOTAVAIL":
      return new LogbookError(
        "LOGBOOK_INVALID_OPTION",
        `cannot listen on ${address}: no interface of this machine has that address`,
        {
          cause: error,
        },
      );
    case "EACCES":
      return new LogbookError(
        "LOGBOOK_INVALID_OPTION",
        `cannot listen on ${address}: permission denied (ports below 1024 need privileges)`,
        {
          cause: error,
        },
      );
    default:
      return error;
  }
}
