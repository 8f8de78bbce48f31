/**
 * How the stream routes name things: the stream a request's path names (a tenant's key,
 * stored under its prefix), entries as JSON, and store keys shown back as the tenant knows
 * them; and the options every stream route shares.
 */
import type { FastifyRequest } from "fastify";
import type { Store, StreamEntry } from "../store/index.js";
import type { Admission } from "./admission.js";
import { checkKey, dataPrefix, type KeyRules } from "./namespace.js";
import type { BlockingLimits } from "./stream-reads.js";

export interface StreamRouteOptions extends KeyRules, BlockingLimits {
  store: Store;
  admission: Admission;
  idempotencyTtlMs: number;
  /** Stream keys one list page holds at most (the key routes' listLimitMax). */
  listLimitMax: number;
}

/** The stream a request names: its key as the tenant knows it, and as the store holds it. */
export interface NamedStream {
  key: string;
  storageKey: string;
}

export function streamOf(request: FastifyRequest, rules: KeyRules): NamedStream {
  const key = checkKey((request.params as { key?: unknown }).key, rules);
  return { key, storageKey: dataPrefix(request.principal.tenant) + key };
}

/** An entry as the routes answer it: its ID and its [field, value] pairs in the order they were added. */
export function entryJson(entry: StreamEntry): { id: string; fields: [string, string][] | null } {
  return { id: entry.id, fields: entry.fields };
}
