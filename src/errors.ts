/**
 * The one error class of Logbook. `code` is stable and documented in docs/errors.md;
 * messages may be reworded. Structured fields carry the facts a caller needs to act.
 */
export type LogbookErrorCode =
  | "LOGBOOK_LOCKED"
  | "LOGBOOK_CORRUPTION"
  | "LOGBOOK_LOG_FAILED"
  | "LOGBOOK_NO_SPACE"
  | "LOGBOOK_CLOSED"
  | "LOGBOOK_ABORTED"
  | "LOGBOOK_READ_ONLY"
  | "LOGBOOK_OVERLOADED"
  | "LOGBOOK_NOT_FOUND"
  | "LOGBOOK_CONFLICT"
  | "LOGBOOK_TRUNCATED"
  | "LOGBOOK_CURSOR_DROPPED"
  | "LOGBOOK_IO"
  | "LOGBOOK_INVALID_ARGUMENT"
  | "LOGBOOK_INVALID_LSN"
  | "LOGBOOK_INVALID_OPTION"
  | "LOGBOOK_ADDRESS_IN_USE"
  | "LOGBOOK_RECORD_TOO_LARGE"
  | "LOGBOOK_WRONG_TYPE"
  | "LOGBOOK_NO_GROUP"
  | "LOGBOOK_GROUP_EXISTS";

export interface LogbookErrorFields {
  file?: string;
  offset?: number;
  lsn?: number;
  key?: string;
  currentVersion?: number;
  cause?: unknown;
}

export class LogbookError extends Error {
  readonly code: LogbookErrorCode;
  readonly file?: string;
  readonly offset?: number;
  readonly lsn?: number;
  readonly key?: string;
  readonly currentVersion?: number;

  constructor(code: LogbookErrorCode, message: string, fields: LogbookErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = "LogbookError";
    this.code = code;
    if (fields.file !== undefined) this.file = fields.file;
    if (fields.offset !== undefined) this.offset = fields.offset;
    if (fields.lsn !== undefined) this.lsn = fields.lsn;
    if (fields.key !== undefined) this.key = fields.key;
    if (fields.currentVersion !== undefined) this.currentVersion = fields.currentVersion;
  }
}

export function isLogbookError(error: unknown, code?: LogbookErrorCode): error is LogbookError {
  return error instanceof LogbookError && (code === undefined || error.code === code);
}

/** The errno-style code of a platform error (`EIO`, `ENOSPC`…), if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

/**
 * A failure of the disk as a typed error: LOGBOOK_NO_SPACE for ENOSPC, LOGBOOK_IO for any other
 * errno, with the platform error as its `cause`; what a caller can act on is that class, not
 * Node's error object. Errors that are already typed (or not from the platform) pass unchanged.
 */
export function asDiskError(error: unknown, what: string, fields: Omit<LogbookErrorFields, "cause"> = {}): unknown {
  if (error instanceof LogbookError || error instanceof TypeError) return error;
  const code = errnoCode(error);
  if (code === undefined) return error;
  return new LogbookError(code === "ENOSPC" ? "LOGBOOK_NO_SPACE" : "LOGBOOK_IO", `${what}: ${(error as Error).message}`, {
    ...fields,
    cause: error,
  });
}
