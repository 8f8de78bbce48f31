/**
 * The key-value routes: `/v1/kv/{key}` (PUT, GET, DELETE), `/v1/kv` (list), `/v1/kv:batch`.
 *
 * Every key is a tenant's key (namespace.ts); every write goes through one path, `mutate`,
 * which applies backpressure, idempotency and conditions the same way for all routes. A write
 * of one operation, conditioned on its own key at most (a PUT or DELETE without an
 * Idempotency-Key, a batch of one), takes the store's single-write path; anything else,
 * including a write that carries its idempotency record, is one atomic store batch.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { isLogbookError } from "../errors.js";
import type { BatchOperation, Store, StoreEntry } from "../store/store.js";
import type { Admission } from "./admission.js";
import type { Principal } from "./auth.js";
import { HttpError, singleHeader, toHttpError } from "./http-error.js";
import { decodeRecord, encodeRecord, fingerprint, InFlight, parseIdempotencyKey, type RecordedResponse } from "./idempotency.js";
import { checkKey, dataPrefix, idempotencyPrefix, type KeyRules, keyFromPath } from "./namespace.js";
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

/** One write as the routes describe it to `mutate`. */
interface Mutation {
  operations: BatchOperation[];
  /**
   * The conditions, evaluated when the write is applied (not when a recorded response is
   * replayed), in the same synchronous step as its sequencing. May throw (404 for a delete).
   */
  conditions: () => [string, number][];
  /**
   * Status to answer a failed condition with: 412 for If-Match headers, 409 for batch versions,
   * 404 for an unconditional delete (its condition is only that the key exists).
   */
  conflictStatus: 404 | 409 | 412;
  /** The response body, without `version` (added from the write's LSN). */
  body: Record<string, unknown>;
  /** Bytes the write will take in flight (for backpressure). */
  bytes: number;
  /** Whether the response carries the version as ETag (single-key routes). */
  etag: boolean;
}

function etagOf(version: number): string {
  return `"${version}"`;
}

/** A strong entity tag as a version: `"12"`. An unquoted `12` is not an entity tag. */
function versionFromTag(tag: string, header: string): number {
  const text = tag.length >= 2 && tag.startsWith('"') && tag.endsWith('"') ? tag.slice(1, -1) : "";
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${header} must be one entity tag holding a version, like "12", or *`);
  }
  return Number(text);
}

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
  const { store, admission } = options;
  const inFlight = new InFlight<RecordedResponse>();

  /** Applies a write at most once per idempotency key, under backpressure, and answers it. */
  async function mutate(request: FastifyRequest, reply: FastifyReply, mutation: Mutation): Promise<void> {
    const tenant = request.principal.tenant;
    const idempotencyKey = parseIdempotencyKey(singleHeader(request.headers, "idempotency-key"));
    let result: RecordedResponse;
    if (idempotencyKey === undefined) {
      result = await apply(request, mutation, tenant);
    } else {
      const storageKey = idempotencyPrefix(tenant) + idempotencyKey;
      const print = fingerprint([
        request.method,
        request.url,
        singleHeader(request.headers, "if-match"),
        singleHeader(request.headers, "if-none-match"),
        request.bodyText,
      ]);
      const mismatch = () =>
        new HttpError(422, "LOGBOOK_IDEMPOTENCY_MISMATCH", "this Idempotency-Key was used with a different request");
      const recorded = store.getSync(storageKey);
      const previous = recorded === undefined ? undefined : decodeRecord(recorded.value as string, recorded.version, Date.now());
      const running = inFlight.get(storageKey);
      if (previous !== undefined) {
        if (previous.f !== print) throw mismatch();
        reply.header("idempotent-replayed", "true");
        result = previous;
      } else if (running !== undefined) {
        if (running.fingerprint !== print) throw mismatch();
        result = await running.done;
        reply.header("idempotent-replayed", "true");
      } else {
        result = await inFlight.run(storageKey, print, () =>
          apply(request, mutation, tenant, {
            key: storageKey,
            value: encodeRecord({ f: print, s: 200, b: mutation.body, e: Date.now() + options.idempotencyTtlMs }),
          }),
        );
      }
    }
    if (mutation.etag) reply.header("etag", etagOf(result.version));
    reply
      .code(result.status)
      .type("application/json")
      .send(JSON.stringify({ ...result.body, version: result.version }));
  }

  async function apply(
    request: FastifyRequest,
    mutation: Mutation,
    tenant: string,
    record?: { key: string; value: string },
  ): Promise<RecordedResponse> {
    const operations = record === undefined ? mutation.operations : [...mutation.operations, { type: "put" as const, ...record }];
    const bytes = mutation.bytes + (record === undefined ? 0 : record.key.length + record.value.length);
    const conditions = mutation.conditions();
    try {
      const write = storeWrite(store, operations, conditions);
      const version = await admission.run(bytes, () => options.observer.observeWrite(request, operations.length, write));
      return { status: 200, body: mutation.body, version };
    } catch (error) {
      if (isLogbookError(error, "LOGBOOK_CONFLICT")) {
        if (mutation.conflictStatus === 404) throw new HttpError(404, "LOGBOOK_NOT_FOUND", "no such key");
        const prefix = dataPrefix(tenant);
        const key = error.key?.startsWith(prefix) ? error.key.slice(prefix.length) : undefined;
        throw new HttpError(
          mutation.conflictStatus,
          mutation.conflictStatus === 412 ? "LOGBOOK_PRECONDITION_FAILED" : "LOGBOOK_CONFLICT",
          `the key's version is ${error.currentVersion ?? 0}, not the one the request expected`,
          {
            ...(key === undefined ? {} : { key }),
            ...(error.currentVersion === undefined ? {} : { currentVersion: error.currentVersion }),
          },
        );
      }
      throw toHttpError(error);
    }
  }

  /**
   * What If-Match / If-None-Match ask of a write: a version, "exists" (If-Match: *), or nothing.
   * Only parsed here; it is checked in `conditions`, so a replayed idempotent request is not
   * judged again against a state its first application changed.
   */
  function headerCondition(request: FastifyRequest): number | "exists" | undefined {
    const ifMatch = singleHeader(request.headers, "if-match")?.trim();
    const ifNoneMatch = singleHeader(request.headers, "if-none-match")?.trim();
    if (ifMatch !== undefined && ifNoneMatch !== undefined) {
      throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "give If-Match or If-None-Match, not both");
    }
    if (ifNoneMatch !== undefined) {
      if (ifNoneMatch !== "*") throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "on a write, If-None-Match must be *");
      return 0;
    }
    if (ifMatch === undefined) return undefined;
    return ifMatch === "*" ? "exists" : versionFromTag(ifMatch, "If-Match");
  }

  /**
   * The version a condition that the key exists expects (0: absent, as reads see it): the
   * latest sequenced, so the write lands after it; but when that is a delete not yet
   * acknowledged, the applied version, so that the store answers the conflict only once the
   * delete is applied (a crash could still take it back before).
   */
  function existingVersion(storageKey: string): number {
    const current = store.versionOf(storageKey);
    return current !== 0 ? current : (store.getSync(storageKey)?.version ?? 0);
  }

  /** A header condition as the store's: "exists" is read and checked in the write's own step. */
  function storeConditions(storageKey: string, condition: number | "exists" | undefined): [string, number][] {
    if (condition === undefined) return [];
    if (condition !== "exists") return [[storageKey, condition]];
    const current = existingVersion(storageKey);
    if (current === 0) throw new HttpError(412, "LOGBOOK_PRECONDITION_FAILED", "the key does not exist", { currentVersion: 0 });
    return [[storageKey, current]];
  }

  app.put("/v1/kv/*", { onRequest: refuseContentCoding }, async (request, reply) => {
    const key = keyOfRequest(request, options);
    const text = requireBody(request);
    const storageKey = dataPrefix(request.principal.tenant) + key;
    const condition = headerCondition(request);
    await mutate(request, reply, {
      operations: [{ type: "put", key: storageKey, value: text }],
      conditions: () => storeConditions(storageKey, condition),
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
    await mutate(request, reply, {
      operations: [{ type: "delete", key: storageKey }],
      conditions: () => {
        if (condition !== undefined) return storeConditions(storageKey, condition);
        // Unconditional: the key must exist now. (A recorded retry answers as the first time
        // did, although the key is gone: conditions are not evaluated on a replay.)
        const current = existingVersion(storageKey);
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
    const entry = store.getSync(dataPrefix(request.principal.tenant) + key);
    if (entry === undefined) throw new HttpError(404, "LOGBOOK_NOT_FOUND", "no such key");
    const tag = etagOf(entry.version);
    reply.header("etag", tag);
    const ifNoneMatch = singleHeader(request.headers, "if-none-match");
    if (ifNoneMatch !== undefined && noneMatchHolds(ifNoneMatch, tag)) return reply.code(304).send();
    return reply.type("application/json").send(entry.value as string);
  });

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
    await mutate(request, reply, {
      operations: batch,
      conditions: () => conditions,
      conflictStatus: 409,
      body: {},
      bytes,
      etag: false,
    });
  });

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
    const entries = store.scan({ prefix: namespace + prefix, ...range, reverse, limit: limit + 1 });
    const { items, last, more } = await readPage(entries, namespace, limit, options.listBytesMax);
    const cursor = more && last !== undefined ? JSON.stringify(Buffer.from(last, "utf8").toString("base64url")) : "null";
    reply.type("application/json").send(`{"items":[${items.join(",")}],"cursor":${cursor}}`);
  });
}

/**
 * The store call that makes a write: one operation whose only condition, if any, is on its own
 * key takes the store's single-write path (`put`/`delete`, encoded straight into the log), with
 * the same check of the condition in the same synchronous step as its sequencing; anything
 * else is a batch, applied atomically.
 */
function storeWrite(store: Store, operations: readonly BatchOperation[], conditions: [string, number][]): () => Promise<number> {
  const only = operations.length === 1 ? (operations[0] as BatchOperation) : undefined;
  const condition = conditions.length <= 1 ? conditions[0] : undefined;
  if (only === undefined || (conditions.length > 0 && condition?.[0] !== only.key)) {
    return () => store.batch(operations, { ifVersions: conditions });
  }
  const writeOptions = condition === undefined ? {} : { ifVersion: condition[1] };
  if (only.type === "put") return () => store.put(only.key, only.value, writeOptions);
  return () => store.delete(only.key, writeOptions);
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
