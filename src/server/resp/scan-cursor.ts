/**
 * SCAN cursors. SCAN walks a tenant's keys in key order; a cursor names the key the next call
 * resumes at, so a key present for a whole scan is returned at least once whatever is written
 * meanwhile (keys added or removed before the resume key only move nothing after it).
 *
 * A cursor is an unsigned 64-bit number, as Redis's is, and a key does not fit in one, so the
 * endpoint remembers the resume key of each cursor it issues: the high 32 bits of the cursor are
 * the first 4 bytes of the resume key (its name within the tenant, zero-padded), the low 32 bits
 * a token that tells cursors apart. A cursor the endpoint no longer remembers (more than
 * SCAN_CURSORS_MAX issued since, a restart, or a number the client made up) resumes at its 4
 * bytes: at or before the key it named, so the scan repeats some keys but misses none. Redis
 * accepts any number as a cursor too. Cursor 0 starts a scan and ends one.
 */
import { RespError } from "./reply.js";

/** Cursors remembered at once; the oldest is forgotten first. */
export const SCAN_CURSORS_MAX = 4096;
/** Bytes of resume keys remembered at once (keys may be long); the oldest are forgotten first. */
export const SCAN_CURSOR_BYTES_MAX = 16 * 1024 * 1024;

const PREFIX_BYTES = 4;
const TOKEN_BITS = 32n;
const TOKEN_MASK = (1n << TOKEN_BITS) - 1n;
const ULONG_MAX = (1n << 64n) - 1n;

interface Remembered {
  /** The tenant's key prefix: a cursor is only good within the tenant it was issued to. */
  tenant: string;
  /** The internal key the scan resumes at. */
  resume: string;
}

export class ScanCursors {
  private readonly remembered = new Map<bigint, Remembered>();
  private bytes = 0;
  private lastToken = 0n;

  /** The internal key a scan of the tenant whose keys start with `tenant` resumes at, given `cursor`. */
  resumeKey(cursor: bigint, tenant: string): string {
    if (cursor === 0n) return tenant;
    const entry = this.remembered.get(cursor);
    if (entry !== undefined && entry.tenant === tenant) return entry.resume;
    return tenant + decodePrefix(cursor >> TOKEN_BITS);
  }

  /** A new cursor for a scan that resumes at internal key `resume` (which starts with `tenant`). */
  issue(resume: string, tenant: string): bigint {
    const prefix = encodePrefix(resume.slice(tenant.length)) << TOKEN_BITS;
    let cursor: bigint;
    do {
      this.lastToken = this.lastToken === TOKEN_MASK ? 1n : this.lastToken + 1n;
      cursor = prefix | this.lastToken;
    } while (this.remembered.has(cursor));
    this.remembered.set(cursor, { tenant, resume });
    this.bytes += tenant.length + resume.length;
    this.forgetOldest();
    return cursor;
  }

  get size(): number {
    return this.remembered.size;
  }

  private forgetOldest(): void {
    for (const [cursor, entry] of this.remembered) {
      if (this.remembered.size <= SCAN_CURSORS_MAX && this.bytes <= SCAN_CURSOR_BYTES_MAX) return;
      this.remembered.delete(cursor);
      this.bytes -= entry.tenant.length + entry.resume.length;
    }
  }
}

/** The first PREFIX_BYTES bytes of `name`, zero-padded, as a big-endian number: it orders as the names do. */
function encodePrefix(name: string): bigint {
  let value = 0n;
  for (let i = 0; i < PREFIX_BYTES; i++) value = (value << 8n) | BigInt(i < name.length ? name.charCodeAt(i) : 0);
  return value;
}

/**
 * The bytes a prefix number stands for, trailing zeros dropped: a prefix of every name that
 * encodes to it, so no greater than any of them.
 */
function decodePrefix(value: bigint): string {
  let text = "";
  for (let i = PREFIX_BYTES - 1; i >= 0; i--) text += String.fromCharCode(Number((value >> BigInt(8 * i)) & 0xffn));
  return text.replace(/\0+$/, "");
}

const SPACE = /^[ \t\n\v\f\r]/;
const UNSIGNED = /^([+-]?)([0-9]+)$/;

/**
 * A cursor argument as Redis reads it (db.c parseScanCursorOrReply, C's strtoul): decimal, an
 * optional sign (a negative number wraps around), no leading space, read up to the first NUL,
 * the empty text being 0; "ERR invalid cursor" otherwise.
 */
export function parseCursor(text: string): bigint {
  const nul = text.indexOf("\0");
  const digits = nul === -1 ? text : text.slice(0, nul);
  if (digits.length === 0) return 0n;
  const parts = SPACE.test(digits) ? null : UNSIGNED.exec(digits);
  if (parts === null) throw new RespError("ERR invalid cursor");
  const magnitude = BigInt(parts[2] as string);
  if (magnitude > ULONG_MAX) throw new RespError("ERR invalid cursor");
  return parts[1] === "-" ? (ULONG_MAX + 1n - magnitude) & ULONG_MAX : magnitude;
}

const cursorTables = new WeakMap<object, ScanCursors>();

/** The cursors of one endpoint (`owner`: its host), created on first use. */
export function scanCursorsOf(owner: object): ScanCursors {
  let cursors = cursorTables.get(owner);
  if (cursors === undefined) {
    cursors = new ScanCursors();
    cursorTables.set(owner, cursors);
  }
  return cursors;
}
