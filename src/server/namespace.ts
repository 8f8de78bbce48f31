/**
 * Where a tenant's keys live in the one store: `k/<tenant>/<key>` for data and
 * `i/<tenant>/<idempotency key>` for recorded responses. Every key a request names is
 * prefixed here, after decoding, so no spelling of a key (encoded slashes, "..", a prefix
 * that looks like another tenant's) can leave the tenant's range: it is only ever a longer
 * key inside it. Tenant ids cannot contain "/", so no tenant's range holds another's.
 */
import { HttpError } from "./http-error.js";

export function dataPrefix(tenant: string): string {
  return `k/${tenant}/`;
}

export function idempotencyPrefix(tenant: string): string {
  return `i/${tenant}/`;
}

/** Key limits, in UTF-8 bytes of the key as the client names it. */
export interface KeyRules {
  keyBytesMax: number;
}

/**
 * Checks a key given in JSON (a batch) or decoded from a path: a non-empty, well-formed
 * string within the limit. Returns its UTF-8 byte length.
 */
export function checkKey(key: unknown, rules: KeyRules): string {
  if (typeof key !== "string" || key.length === 0)
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "a key must be a non-empty string");
  if (!key.isWellFormed()) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "a key must be valid UTF-8");
  const bytes = key.length > rules.keyBytesMax / 3 ? Buffer.byteLength(key, "utf8") : key.length;
  if (bytes > rules.keyBytesMax) {
    throw new HttpError(414, "LOGBOOK_KEY_TOO_LONG", `a key is at most ${rules.keyBytesMax} bytes, this one has ${bytes}`);
  }
  return key;
}

/** A key from a request path segment (everything after `/v1/kv/`, percent-decoded once). */
export function keyFromPath(encoded: string, rules: KeyRules): string {
  // A raw path can only be 3 bytes per decoded byte longer; refuse absurd ones before decoding.
  if (encoded.length > rules.keyBytesMax * 3) {
    throw new HttpError(414, "LOGBOOK_KEY_TOO_LONG", `a key is at most ${rules.keyBytesMax} bytes`);
  }
  let key: string;
  try {
    key = decodeURIComponent(encoded);
  } catch {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "the key is not valid percent-encoded UTF-8");
  }
  return checkKey(key, rules);
}
