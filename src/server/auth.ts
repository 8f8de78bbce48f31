/**
 * Bearer tokens and the tenants they belong to.
 *
 * Tokens are kept only as SHA-256 digests, and a presented token is compared against every
 * configured digest with timingSafeEqual, always all of them: how long a check takes says
 * nothing about which token, or how much of one, was right.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { LogbookError } from "../errors.js";
import { HttpError } from "./http-error.js";

export type Access = "read" | "read-write";

export interface TokenConfig {
  token: string;
  tenant: string;
  access?: Access;
}

export interface Principal {
  readonly tenant: string;
  readonly access: Access;
}

/** Tenant ids never contain "/", so no tenant's namespace is a prefix of another's. */
export const TENANT_ID = /^[A-Za-z0-9_.-]{1,64}$/;
export const TOKEN_LENGTH_MIN = 16;
/** The tenant of every request when no tokens are configured (loopback only). */
export const OPEN_TENANT = "default";
/**
 * Every open request's principal: one shared object, not a literal per request (V8 once chose to
 * allocate those straight in the old generation, as they live as long as their request).
 */
const OPEN_PRINCIPAL: Principal = Object.freeze({ tenant: OPEN_TENANT, access: "read-write" });

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

export class Authenticator {
  private readonly entries: { digest: Buffer; principal: Principal }[];

  constructor(tokens: readonly TokenConfig[]) {
    const seen = new Set<string>();
    this.entries = tokens.map((config, index) => {
      const where = `token #${index + 1}`;
      if (typeof config.token !== "string" || config.token.length < TOKEN_LENGTH_MIN || /\s/.test(config.token)) {
        throw new LogbookError(
          "LOGBOOK_INVALID_OPTION",
          `${where}: a token must be at least ${TOKEN_LENGTH_MIN} characters, without spaces`,
        );
      }
      if (typeof config.tenant !== "string" || !TENANT_ID.test(config.tenant)) {
        throw new LogbookError("LOGBOOK_INVALID_OPTION", `${where}: a tenant id is 1-64 of A-Z a-z 0-9 _ . -`);
      }
      const access = config.access ?? "read-write";
      if (access !== "read" && access !== "read-write") {
        throw new LogbookError("LOGBOOK_INVALID_OPTION", `${where}: access must be read or read-write`);
      }
      if (seen.has(config.token)) throw new LogbookError("LOGBOOK_INVALID_OPTION", `${where}: the same token twice`);
      seen.add(config.token);
      return { digest: digest(config.token), principal: { tenant: config.tenant, access } };
    });
  }

  get enabled(): boolean {
    return this.entries.length > 0;
  }

  /** The principal of a request's Authorization header; HttpError 401 when it has none or a bad one. */
  authenticate(authorization: string | undefined): Principal {
    if (!this.enabled) return OPEN_PRINCIPAL;
    const challenge = { "www-authenticate": 'Bearer realm="logbook"' };
    if (authorization === undefined || authorization.length === 0) {
      throw new HttpError(401, "LOGBOOK_UNAUTHORIZED", "a bearer token is required", { headers: challenge });
    }
    const match = /^Bearer +([^\s]+) *$/i.exec(authorization);
    if (match === null) {
      throw new HttpError(401, "LOGBOOK_UNAUTHORIZED", "the Authorization header must be: Bearer <token>", {
        headers: challenge,
      });
    }
    const presented = digest(match[1] as string);
    let found: Principal | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented)) found = entry.principal;
    }
    if (found === undefined) {
      throw new HttpError(401, "LOGBOOK_UNAUTHORIZED", "the token is not valid", {
        headers: { "www-authenticate": 'Bearer realm="logbook", error="invalid_token"' },
      });
    }
    return found;
  }
}

/** Tokens from the environment's form: `tenant:token[:read]`, comma-separated. */
export function parseTokenList(text: string): TokenConfig[] {
  return text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => {
      const [tenant, token, access, ...rest] = part.split(":");
      if (tenant === undefined || token === undefined || rest.length > 0) {
        throw new LogbookError("LOGBOOK_INVALID_OPTION", "tokens are listed as tenant:token[:read|read-write], comma-separated");
      }
      return { tenant, token, ...(access === undefined ? {} : { access: access as Access }) };
    });
}
