/**
 * Errors as the HTTP API reports them: a status and a JSON body `{ error: { code, message } }`
 * whose `code` is stable (clients branch on it, never on the message).
 */
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { isLogbookError } from "../errors.js";

export type HttpErrorCode =
  | "LOGBOOK_BAD_REQUEST"
  | "LOGBOOK_UNAUTHORIZED"
  | "LOGBOOK_FORBIDDEN"
  | "LOGBOOK_NOT_FOUND"
  | "LOGBOOK_TRUNCATED"
  | "LOGBOOK_CURSOR_DROPPED"
  | "LOGBOOK_METHOD_NOT_ALLOWED"
  | "LOGBOOK_TIMEOUT"
  | "LOGBOOK_CONFLICT"
  | "LOGBOOK_WRONG_TYPE"
  | "LOGBOOK_NO_GROUP"
  | "LOGBOOK_GROUP_EXISTS"
  | "LOGBOOK_PRECONDITION_FAILED"
  | "LOGBOOK_BODY_TOO_LARGE"
  | "LOGBOOK_BATCH_TOO_LARGE"
  | "LOGBOOK_KEY_TOO_LONG"
  | "LOGBOOK_UNSUPPORTED_MEDIA_TYPE"
  | "LOGBOOK_IDEMPOTENCY_MISMATCH"
  | "LOGBOOK_OVERLOADED"
  | "LOGBOOK_UNAVAILABLE"
  | "LOGBOOK_INTERNAL";

export interface HttpErrorBody {
  error: { code: HttpErrorCode; message: string; key?: string; currentVersion?: number };
}

export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: HttpErrorCode;
  readonly headers: Record<string, string>;
  readonly details: { key?: string; currentVersion?: number };

  constructor(
    statusCode: number,
    code: HttpErrorCode,
    message: string,
    options: { headers?: Record<string, string>; key?: string; currentVersion?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpError";
    this.statusCode = statusCode;
    this.code = code;
    this.headers = options.headers ?? {};
    this.details = {};
    if (options.key !== undefined) this.details.key = options.key;
    if (options.currentVersion !== undefined) this.details.currentVersion = options.currentVersion;
  }

  body(): HttpErrorBody {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/** A request header that may be given at most once (a list of values is a 400). */
export function singleHeader(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${name} must be given once`);
  return value;
}

/** What Node's HTTP parser reports on a connection (its `clientError`), as our status and code. */
function parserError(code: string | undefined): [number, HttpErrorCode, string] {
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return [408, "LOGBOOK_TIMEOUT", "the request did not arrive in time"];
  if (code === "HPE_HEADER_OVERFLOW") return [431, "LOGBOOK_BAD_REQUEST", "the request's headers are too large"];
  return [400, "LOGBOOK_BAD_REQUEST", "the request is not valid HTTP/1.1"];
}

/**
 * Answers an error Node's HTTP parser met before any route ran (a malformed request line or
 * header, headers over the size limit, a request that did not arrive in time) in the same
 * shape as every other error, then closes the connection: past a parse error the stream's
 * framing cannot be trusted.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A reset connection, or one already gone, has no one to answer.
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, code, message] = parserError(error.code);
  const body = JSON.stringify(new HttpError(status, code, message).body());
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Fastify's own errors (body parsing, limits, routing) by their code, as ours. */
const FRAMEWORK_ERRORS: Record<string, [number, HttpErrorCode]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, "LOGBOOK_BODY_TOO_LARGE"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, "LOGBOOK_UNSUPPORTED_MEDIA_TYPE"],
  FST_ERR_CTP_INVALID_TYPE: [415, "LOGBOOK_UNSUPPORTED_MEDIA_TYPE"],
  FST_ERR_CTP_EMPTY_TYPE: [415, "LOGBOOK_UNSUPPORTED_MEDIA_TYPE"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, "LOGBOOK_BAD_REQUEST"],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, "LOGBOOK_BAD_REQUEST"],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, "LOGBOOK_BAD_REQUEST"],
  FST_ERR_VALIDATION: [400, "LOGBOOK_BAD_REQUEST"],
  FST_ERR_BAD_URL: [400, "LOGBOOK_BAD_REQUEST"],
  FST_ERR_ASYNC_CONSTRAINT: [400, "LOGBOOK_BAD_REQUEST"],
};

/** Any error a handler can meet, as the HttpError to answer with. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isLogbookError(error)) {
    switch (error.code) {
      case "LOGBOOK_CONFLICT":
        return new HttpError(409, "LOGBOOK_CONFLICT", error.message, {
          ...(error.key === undefined ? {} : { key: error.key }),
          ...(error.currentVersion === undefined ? {} : { currentVersion: error.currentVersion }),
        });
      case "LOGBOOK_INVALID_ARGUMENT":
      case "LOGBOOK_INVALID_LSN":
        return new HttpError(400, "LOGBOOK_BAD_REQUEST", error.message);
      case "LOGBOOK_NOT_FOUND":
        return new HttpError(404, "LOGBOOK_NOT_FOUND", error.message);
      // Streams: a key holding the other kind of value, and consumer groups that are or are not there.
      case "LOGBOOK_WRONG_TYPE":
        return new HttpError(409, "LOGBOOK_WRONG_TYPE", error.message);
      case "LOGBOOK_NO_GROUP":
        return new HttpError(404, "LOGBOOK_NO_GROUP", error.message);
      case "LOGBOOK_GROUP_EXISTS":
        return new HttpError(409, "LOGBOOK_GROUP_EXISTS", error.message);
      // The change feed: the position asked for is gone for good (410), and says how to resync.
      case "LOGBOOK_TRUNCATED":
      case "LOGBOOK_CURSOR_DROPPED":
        return new HttpError(410, error.code, error.message);
      case "LOGBOOK_OVERLOADED":
        return new HttpError(429, "LOGBOOK_OVERLOADED", error.message, { headers: { "retry-after": "1" } });
      case "LOGBOOK_LOG_FAILED":
      case "LOGBOOK_NO_SPACE":
      case "LOGBOOK_IO":
      case "LOGBOOK_CLOSED":
      case "LOGBOOK_READ_ONLY":
        return new HttpError(503, "LOGBOOK_UNAVAILABLE", `the store cannot take writes: ${error.message}`, {
          headers: { "retry-after": "5" },
          cause: error,
        });
      default:
        return new HttpError(500, "LOGBOOK_INTERNAL", "internal error", { cause: error });
    }
  }
  if (typeof error === "object" && error !== null) {
    const { code, statusCode, message } = error as { code?: unknown; statusCode?: unknown; message?: unknown };
    const known = typeof code === "string" ? FRAMEWORK_ERRORS[code] : undefined;
    if (known !== undefined) return new HttpError(known[0], known[1], String(message));
    if (typeof statusCode === "number" && statusCode >= 400 && statusCode < 500) {
      return new HttpError(statusCode, statusCode === 413 ? "LOGBOOK_BODY_TOO_LARGE" : "LOGBOOK_BAD_REQUEST", String(message));
    }
  }
  return new HttpError(500, "LOGBOOK_INTERNAL", "internal error", { cause: error });
}
