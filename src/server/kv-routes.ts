/**
 * The key-value routes: `/v1/kv/{key}` (PUT, GET, DELETE), `/v1/kv` (list), `/v1/kv:batch`.
 *
 * Every key is a tenant's key (namespace.ts); every write goes through one path,
 * `KvWrites.mutate` (kv-writes.ts), which applies backpressure, idempotency and conditions the
 * same way for all routes.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { BatchOperation, Store, StoreEntry } from "../store/index.js";
import type { Admission } from "./admission.js";
import type { Principal } from "./auth.js";
import { HttpError, singleHeader } from "./http-error.js";
import { etagOf, headerCondition, KvWrites } from "./kv-writes.js";
import { checkKey, dataPrefix, type KeyRules, keyFromPath } from "./namespace.js";
import { parseBatchBody, parseListQuery } from "./request-schemas.js";
import type { RequestObserver } from "./telemetry/index.js";

export interface KvRouteOptions extends KeyRules {
  store: Store;
  admission: Admission;
  /** Sees every write, for its trace. */
  observer: RequestObserver;
  batchOperationsMax: number;
  listLimitMax: number;
  /** Bytes of items after which a list page ends early (it always holds one entry). */
  listBytesMax: number;
  idempotencyTtlMs: number;
}

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
    /** The request body as sent (JSON text), when it had one. */
    bodyText: string | undefined;
  }
}

const KV_PATH = "/v1/kv/";

function keyOfRequest(request: FastifyRequest, rules: KeyRules): string {
  const url = request.url;
  const query = url.indexOf("?");
  return keyFromPath(url.slice(KV_PATH.length, query === -1 ? undefined : query), rules);
}

/**
 * Refuses a body sent with a content coding (gzip, br, ...) before it is parsed: the server
 * decodes none, and a coded body stored as sent would not be the value the client meant.
 */
async function refuseContentCoding(request: FastifyRequest): Promise<void> {
  const coding = singleHeader(request.headers, "content-encoding")?.trim().toLowerCase();
  if (coding === undefined || coding === "" || coding === "identity") return;
  throw new HttpError(415, "LOGBOOK_UNSUPPORTED_MEDIA_TYPE", "send the body without a Content-Encoding: none is decoded", {
    headers: { "accept-encoding": "identity" },
  });
}

/** Whether an If-None-Match list on a read names `tag`, weakly compared (`W/"12"` matches `"12"`). */
function noneMatchHolds(header: string, tag: string): boolean {
  if (header.trim() === "*") return true;
  return header.split(",").some((listed) => {
    const trimmed = listed.trim();
    return (trimmed.startsWith("W/") ? trimmed.slice(2) : trimmed) === tag;
  });
}

/** A list bound (prefix, start, end) within the key limit: no longer one can name a key. */
function checkBound(name: string, value: string | undefined, rules: KeyRules): string | undefined {
  if (value !== undefined && Buffer.byteLength(value, "utf8") > rules.keyBytesMax) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${name} is at most keyBytesMax (${rules.keyBytesMax}) bytes, like a key`);
  }
  return value;
}

function requireBody(request: FastifyRequest): string {
  if (request.bodyText === undefined) {
    if (request.headers["content-type"] === undefined) {
      throw new HttpError(415, "LOGBOOK_UNSUPPORTED_MEDIA_TYPE", "the body must be JSON (Content-Type: application/json)");
    }
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "the body must be a JSON value");
  }
  return request.bodyText;
}

export function registerKvRoutes(app: FastifyInstance, options: KvRouteOptions): void {
  const writes = new KvWrites(options);
  registerKeyRoutes(app, options, writes);
  registerBatchRoute(app, options, writes);
  registerListRoute(app, options);
}

/** PUT, DELETE and GET of one key. */
function registerKeyRoutes(app: FastifyInstance, options: KvRouteOptions, writes: KvWrites): void {
  app.put("/v1/kv/*", { onRequest: refuseContentCoding }, async (request, reply) => {
    const key = keyOfRequest(request, options);
    const text = requireBody(request);
    const storageKey = dataPrefix(request.principal.tenant) + key;
    const condition = headerCondition(request);
    await writes.mutate(request, reply, {
      operations: [{ type: "put", key: storageKey, value: text }],
      conditions: () => writes.storeConditions(storageKey, condition),
      conflictStatus: 412,
      body: { key },
      bytes: storageKey.length + text.length,
      etag: true,
    });
  });

  app.delete("/v1/kv/*", async (request, reply) => {
    const key = keyOfRequest(request, options);
    const storageKey = dataPrefix(request.principal.tenant) + key;
    const condition = headerCondition(request);
    await writes.mutate(request, reply, {
      operations: [{ type: "delete", key: storageKey }],
      conditions: () => {
        if (condition !== undefined) return writes.storeConditions(storageKey, condition);
        // Unconditional: the key must exist now. (A recorded retry answers as the first time
        // did, although the key is gone: conditions are not evaluated on a replay.)
        const current = writes.existingVersion(storageKey);
        if (current === 0) throw new HttpError(404, "LOGBOOK_NOT_FOUND", "no such key");
        return [[storageKey, current]];
      },
      conflictStatus: condition === undefined ? 404 : 412,
      body: { key, deleted: true },
      bytes: storageKey.length,
      etag: true,
    });
  });

  app.get("/v1/kv/*", async (request, reply) => {
    const key = keyOfRequest(request, options);
    const entry = options.store.getSync(dataPrefix(request.principal.tenant) + key);
    if (entry === undefined) throw new HttpError(404, "LOGBOOK_NOT_FOUND", "no such key");
    const tag = etagOf(entry.version);
    reply.header("etag", tag);
    const ifNoneMatch = singleHeader(request.headers, "if-none-match");
    if (ifNoneMatch !== undefined && noneMatchHolds(ifNoneMatch, tag)) return reply.code(304).send();
    return reply.type("application/json").send(entry.value as string);
  });
}

/** Several operations on any keys of the tenant, applied atomically. */
function registerBatchRoute(app: FastifyInstance, options: KvRouteOptions, writes: KvWrites): void {
  // Read-only tokens never get here with a write: the onRequest hook answers them 403 first.
  app.post("/v1/kv::batch", { onRequest: refuseContentCoding }, async (request, reply) => {
    const { operations } = parseBatchBody(request.body);
    if (operations.length > options.batchOperationsMax) {
      throw new HttpError(413, "LOGBOOK_BATCH_TOO_LARGE", `a batch holds at most ${options.batchOperationsMax} operations`);
    }
    const prefix = dataPrefix(request.principal.tenant);
    const conditions: [string, number][] = [];
    let bytes = 0;
    const batch: BatchOperation[] = operations.map((op) => {
      const storageKey = prefix + checkKey(op.key, options);
      if (op.ifVersion !== undefined) conditions.push([storageKey, op.ifVersion]);
      bytes += storageKey.length;
      if (op.type === "delete") return { type: "delete", key: storageKey };
      const value = JSON.stringify(op.value);
      bytes += value.length;
      return { type: "put", key: storageKey, value };
    });
    await writes.mutate(request, reply, {
      operations: batch,
      conditions: () => conditions,
      conflictStatus: 409,
      body: {},
      bytes,
      etag: false,
    });
  });
}

/** A page of the tenant's keys in order, from a cursor or between bounds. */
function registerListRoute(app: FastifyInstance, options: KvRouteOptions): void {
  app.get("/v1/kv", async (request, reply) => {
    const query = parseListQuery(request.query);
    const limit = Math.min(query.limit ?? 100, options.listLimitMax);
    const reverse = query.reverse ?? false;
    const namespace = dataPrefix(request.principal.tenant);
    const bound = (key: string | undefined) => (key === undefined ? undefined : namespace + key);
    const range: { gte?: string; lt?: string; gt?: string } = {};
    const start = bound(checkBound("start", query.start, options));
    const end = bound(checkBound("end", query.end, options));
    const prefix = checkBound("prefix", query.prefix, options) ?? "";
    if (start !== undefined) range.gte = start;
    if (end !== undefined) range.lt = end;
    if (query.cursor !== undefined) {
      const after = namespace + cursorKey(query.cursor, options);
      // The cursor narrows the range past the last key of the previous page, in the scan's direction.
      if (reverse) range.lt = range.lt === undefined || after < range.lt ? after : range.lt;
      else range.gt = after;
    }
    const entries = options.store.scan({ prefix: namespace + prefix, ...range, reverse, limit: limit + 1 });
    const { items, last, more } = await readPage(entries, namespace, limit, options.listBytesMax);
    const cursor = more && last !== undefined ? JSON.stringify(Buffer.from(last, "utf8").toString("base64url")) : "null";
    reply.type("application/json").send(`{"items":[${items.join(",")}],"cursor":${cursor}}`);
  });
}

/**
 * One list page as JSON items: up to `limit` entries, ending before the entry that would take
 * the items past `bytesMax` UTF-8 bytes, but never empty while entries remain, so every page
 * makes progress. A page thus holds at most `bytesMax` bytes plus one entry, whatever `limit`
 * is. `more` says whether entries remain past the page; `last` is the page's last key.
 */
async function readPage(
  entries: AsyncGenerator<StoreEntry>,
  namespace: string,
  limit: number,
  bytesMax: number,
): Promise<{ items: string[]; last: string | undefined; more: boolean }> {
  const items: string[] = [];
  let last: string | undefined;
  let bytes = 0;
  // Returning from inside the loop ends the scan (for-await calls the generator's return).
  for await (const entry of entries) {
    if (items.length === limit) return { items, last, more: true };
    const key = (entry.key as string).slice(namespace.length);
    const item = `{"key":${JSON.stringify(key)},"value":${entry.value as string},"version":${entry.version}}`;
    const itemBytes = Buffer.byteLength(item, "utf8") + 1; // the item and the comma after it
    if (items.length > 0 && bytes + itemBytes > bytesMax) return { items, last, more: true };
    items.push(item);
    bytes += itemBytes;
    last = key;
  }
  return { items, last, more: false };
}

function cursorKey(cursor: string, rules: KeyRules): string {
  // A cursor names a key this server listed, so it is never longer than a key can be.
  const encodedMax = Math.ceil((rules.keyBytesMax * 4) / 3);
  const key =
    cursor.length <= encodedMax && /^[A-Za-z0-9_-]*$/.test(cursor) ? Buffer.from(cursor, "base64url").toString("utf8") : "";
  if (key.length === 0 || !key.isWellFormed() || Buffer.from(key, "utf8").toString("base64url") !== cursor) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "the cursor is not one this server gave out");
  }
  return key;
}
