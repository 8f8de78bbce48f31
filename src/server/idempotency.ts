/**
 * The IETF Idempotency-Key header: a mutating request carrying one is applied at most once.
 *
 * The key and the response are written to the store in the same batch as the write itself,
 * so they reach the log in the same record: after any crash either both are there or neither
 * is, and a retry returns the recorded response without applying again. The recorded
 * response leaves out the version, because the version is the record's own LSN, known only
 * once it is sequenced: it is the version of the idempotency entry itself.
 *
 * Only successful (2xx) outcomes are recorded. A request that failed changed nothing, so a
 * retry is simply evaluated again.
 */
import { createHash } from "node:crypto";
import { HttpError } from "./http-error.js";

export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

/** What is stored under `i/<tenant>/<key>`. Short field names: it is kept for every keyed write. */
export interface IdempotencyRecord {
  /** Fingerprint of the request (method, path, conditions, body). */
  f: string;
  /** Status. */
  s: number;
  /** Body without its version. */
  b: Record<string, unknown>;
  /** Expiry, milliseconds since the epoch. */
  e: number;
}

export interface RecordedResponse {
  status: number;
  body: Record<string, unknown>;
  version: number;
}

/** The header's value, either a structured-field string (`"abc"`) or a bare token. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  let key = header.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  // Visible ASCII but the quote and backslash: no spaces, controls or bytes a proxy may recode.
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_LENGTH_MAX || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(key)) {
    throw new HttpError(
      400,
      "LOGBOOK_BAD_REQUEST",
      `Idempotency-Key must be 1-${IDEMPOTENCY_KEY_LENGTH_MAX} visible ASCII characters (no space, " or \\), optionally in double quotes`,
    );
  }
  return key;
}

export function fingerprint(parts: readonly (string | Uint8Array | undefined)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    if (part === undefined) hash.update("\u0000-");
    else {
      hash.update(String(typeof part === "string" ? part.length : part.byteLength));
      hash.update(":");
      hash.update(part);
    }
  }
  return hash.digest("base64url").slice(0, 32);
}

export function encodeRecord(record: IdempotencyRecord): string {
  return JSON.stringify(record);
}

/** The recorded response, or undefined when there is none (or it expired). */
export function decodeRecord(text: string, version: number, nowMs: number): (RecordedResponse & { f: string }) | undefined {
  const record = JSON.parse(text) as IdempotencyRecord;
  if (record.e <= nowMs) return undefined;
  return { f: record.f, status: record.s, body: record.b, version };
}

/**
 * Requests with an idempotency key that are being applied right now, so that a concurrent
 * retry waits for the first one's answer instead of applying again.
 */
export class InFlight<T> {
  private readonly running = new Map<string, { fingerprint: string; done: Promise<T> }>();

  get(key: string): { fingerprint: string; done: Promise<T> } | undefined {
    return this.running.get(key);
  }

  run(key: string, print: string, work: () => Promise<T>): Promise<T> {
    const done = work().finally(() => this.running.delete(key));
    this.running.set(key, { fingerprint: print, done });
    return done;
  }
}
