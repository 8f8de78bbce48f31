/**
 * The stream routes: `/v1/streams` (list), `/v1/streams/{key}` (info), and a stream's
 * entries (add, range, read after an ID with an optional wait, delete), trim and retention.
 * The consumer-group routes are in stream-group-routes.ts.
 *
 * A stream is a tenant's key like any other (namespace.ts): stored under the tenant's prefix,
 * in the same key space as the key-value routes' keys, so a key holds either a value or a
 * stream (the other kind's routes answer 409 LOGBOOK_WRONG_TYPE). The key is one path segment
 * (encode a "/" in it as %2F). Reads need a token, mutations a read-write one (app.ts).
 */
import type { FastifyInstance } from "fastify";
import { isLogbookError } from "../errors.js";
import type { Store, StreamEntry } from "../store/index.js";
import { dataPrefix } from "./namespace.js";
import { registerStreamGroupRoutes } from "./stream-group-routes.js";
import { entryJson, type StreamRouteOptions, streamOf } from "./stream-keys.js";
import { readBlocking } from "./stream-reads.js";
import { parseAddBody, parseEntriesQuery, parseRetentionBody, parseStreamListQuery, parseTrimBody } from "./stream-requests.js";
import { StreamWrites } from "./stream-writes.js";

export function registerStreamRoutes(app: FastifyInstance, options: StreamRouteOptions): void {
  const writes = new StreamWrites(options);
  registerListAndInfo(app, options);
  registerEntryRoutes(app, options, writes);
  registerRetentionRoutes(app, options, writes);
  registerStreamGroupRoutes(app, options, writes);
  // Blocked reads wait up to blockMsMax: end them (each answers what it has) before the server waits for its connections.
  app.addHook("preClose", async () => options.blockedReads.closeAll());
}

function registerListAndInfo(app: FastifyInstance, options: StreamRouteOptions): void {
  const { store } = options;
  app.get("/v1/streams", async (request) => {
    const query = parseStreamListQuery(request.query, options.listLimitMax);
    const limit = query.limit ?? Math.min(100, options.listLimitMax);
    const prefix = dataPrefix(request.principal.tenant);
    const keys = store.streams
      .keys()
      .map(String)
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length))
      .filter((k) => query.after === undefined || k > query.after)
      .sort();
    const items = keys.slice(0, limit);
    return { items, cursor: keys.length > limit ? (items[items.length - 1] as string) : null };
  });

  app.get("/v1/streams/:key", async (request) => {
    const { key, storageKey } = streamOf(request, options);
    const info = await store.streams.info(storageKey);
    const prefix = dataPrefix(request.principal.tenant);
    const groups = store.streams.groups(storageKey).map((g) => ({
      ...g,
      deadLetterKey: g.deadLetterKey === null ? null : withoutPrefix(String(g.deadLetterKey), prefix),
    }));
    return {
      key,
      ...info,
      firstEntry: info.firstEntry === null ? null : entryJson(info.firstEntry),
      lastEntry: info.lastEntry === null ? null : entryJson(info.lastEntry),
      groups,
    };
  });
}

function registerEntryRoutes(app: FastifyInstance, options: StreamRouteOptions, writes: StreamWrites): void {
  const { store } = options;
  app.post("/v1/streams/:key/entries", async (request, reply) => {
    const { storageKey } = streamOf(request, options);
    const body = parseAddBody(request.body);
    return writes.add(request, reply, storageKey, body);
  });

  app.get("/v1/streams/:key/entries", async (request, reply) => {
    const { storageKey } = streamOf(request, options);
    const query = parseEntriesQuery(request.query);
    if (query.mode === "range") {
      const entries = await store.streams.range(storageKey, query);
      return { entries: entries.map(entryJson) };
    }
    // `$` is resolved here, so that the answer can say which ID to read after next even when
    // nothing came: entries added from now on are above the stream's last ID now.
    const after = query.after === "$" ? await lastIdOf(store, storageKey) : query.after;
    const read = await readBlocking(request, reply, options, query.blockMs, (blockMs, signal) =>
      store.streams.read([[storageKey, after]], {
        ...(query.count === undefined ? {} : { count: query.count }),
        ...(blockMs === undefined ? {} : { blockMs }),
        ...(signal === undefined ? {} : { signal }),
      }),
    );
    const entries = read?.[0]?.entries ?? [];
    return {
      entries: entries.map(entryJson),
      next: entries.length > 0 ? (entries[entries.length - 1] as StreamEntry).id : after,
    };
  });

  app.delete<{ Params: { key: string; id: string } }>("/v1/streams/:key/entries/:id", async (request) => {
    const { storageKey } = streamOf(request, options);
    const deleted = await writes.run(storageKey.length, () => store.streams.delete(storageKey, [request.params.id]));
    return { deleted };
  });
}

/** The stream's last ID, `0-0` when there is no stream (what an XREAD with `$` reads after). */
async function lastIdOf(store: Store, storageKey: string): Promise<string> {
  try {
    return (await store.streams.info(storageKey)).lastGeneratedId;
  } catch (error) {
    if (isLogbookError(error, "LOGBOOK_NOT_FOUND")) return "0-0";
    throw error;
  }
}

function registerRetentionRoutes(app: FastifyInstance, options: StreamRouteOptions, writes: StreamWrites): void {
  const { store } = options;
  app.post("/v1/streams/:key/trim", async (request) => {
    const { storageKey } = streamOf(request, options);
    const trim = parseTrimBody(request.body);
    const removed = await writes.run(storageKey.length, () => store.streams.trim(storageKey, trim));
    return { removed };
  });

  app.put("/v1/streams/:key/retention", async (request) => {
    const { storageKey } = streamOf(request, options);
    const retention = parseRetentionBody(request.body);
    const removed = await writes.run(storageKey.length, () => store.streams.setRetention(storageKey, retention));
    return { removed };
  });
}

function withoutPrefix(key: string, prefix: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}
