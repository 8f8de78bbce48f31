/**
 * The change feed over HTTP: `GET /v1/changes` as Server-Sent Events (sse.ts), and the
 * routes of the named feed cursors, `/v1/feed-cursors`. A tenant sees only the changes of its
 * own keys, named without its prefix, and only its own cursors (stored as `<tenant>/<name>`).
 */
import { PassThrough } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Change, FeedCursorInfo, Store } from "../store/index.js";
import { TENANT_ID } from "./auth.js";
import { HttpError, singleHeader, toHttpError } from "./http-error.js";
import type { LongRequests } from "./long-requests.js";
import { dataPrefix } from "./namespace.js";
import { changeEvent, errorEvent, type FeedStart, feedStartOf, HEARTBEAT } from "./sse.js";

export interface FeedRouteOptions {
  store: Store;
  connections: LongRequests;
  /** An SSE comment is sent this often, so that proxies and idle timeouts keep a quiet stream open. */
  heartbeatMs: number;
}

/** Cursor names as a tenant gives them: the same alphabet as tenant ids, so `<tenant>/<name>` is unambiguous. */
function cursorName(request: FastifyRequest, name: unknown): string {
  if (typeof name !== "string" || !TENANT_ID.test(name)) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "a feed cursor name is 1-64 of A-Z a-z 0-9 _ . -");
  }
  return `${request.principal.tenant}/${name}`;
}

function publicInfo(info: FeedCursorInfo): FeedCursorInfo {
  return { ...info, name: info.name.slice(info.name.indexOf("/") + 1) };
}

function changesQuery(query: unknown): { from?: string; cursor?: string } {
  const fields = (query ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(fields)) {
    if (name !== "from" && name !== "cursor") throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `unknown parameter ${name}`);
    if (typeof value !== "string") throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${name} must be given once`);
  }
  return fields as { from?: string; cursor?: string };
}

export function registerFeedRoutes(app: FastifyInstance, options: FeedRouteOptions): void {
  registerChangesRoute(app, options);
  registerCursorRoutes(app, options);
  // Streams never end by themselves: end them before the server waits for its connections to close.
  app.addHook("preClose", async () => options.connections.closeAll());
}

function registerChangesRoute(app: FastifyInstance, options: FeedRouteOptions): void {
  const { store, connections } = options;
  app.get("/v1/changes", async (request, reply) => {
    const query = changesQuery(request.query);
    const start = feedStartOf(singleHeader(request.headers, "last-event-id"), query.from);
    const cursor = query.cursor === undefined ? undefined : cursorName(request, query.cursor);
    const controller = connections.enter();
    let feed: AsyncGenerator<Change>;
    try {
      feed = store.changes({
        ...(start.fromLsn === undefined ? {} : { from: start.fromLsn }),
        ...(cursor === undefined ? {} : { cursor }),
        signal: controller.signal,
      });
    } catch (error) {
      connections.leave(controller);
      throw error;
    }
    const stream = new PassThrough();
    reply.raw.on("close", () => controller.abort());
    // A first line at once: the client knows the stream is open before any change comes.
    stream.write(": open\n\n");
    streamChanges(feed, stream, dataPrefix(request.principal.tenant), start, options.heartbeatMs)
      .catch((error: unknown) => request.log.error({ err: error }, "the change feed failed"))
      .finally(() => connections.leave(controller));
    return reply
      .type("text/event-stream; charset=utf-8")
      .header("cache-control", "no-store")
      .header("x-accel-buffering", "no")
      .send(stream);
  });
}

/**
 * Writes the tenant's changes to `stream` as events until the feed ends, then ends the stream.
 * Reads the next change only once the stream has room: a slow client slows its own reader,
 * and no more than the stream's buffer waits for it.
 */
async function streamChanges(
  feed: AsyncGenerator<Change>,
  stream: PassThrough,
  prefix: string,
  start: FeedStart,
  heartbeatMs: number,
): Promise<void> {
  const heartbeat = setInterval(() => {
    if (!stream.writableNeedDrain) stream.write(HEARTBEAT);
  }, heartbeatMs);
  try {
    for await (const change of feed) {
      if (change.lsn === start.fromLsn && change.index <= start.skipThroughIndex) continue;
      const key = change.key as string;
      if (!key.startsWith(prefix)) continue;
      if (!stream.write(changeEvent(change, key.slice(prefix.length)))) await drained(stream);
      if (stream.destroyed) break;
    }
  } catch (error) {
    // A reader stopped by its signal (the client left, the server closes) just ends.
    if ((error as { code?: unknown }).code !== "LOGBOOK_ABORTED") {
      const http = toHttpError(error);
      if (!stream.destroyed) stream.write(errorEvent(http.code, http.message));
      if (http.statusCode >= 500) throw error;
    }
  } finally {
    clearInterval(heartbeat);
    stream.end();
  }
}

function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
  });
}

function registerCursorRoutes(app: FastifyInstance, options: FeedRouteOptions): void {
  const { store } = options;
  // Cursors hold back the log's truncation for everyone: every cursor route needs a read-write
  // token (the mutating ones are checked by the request hook; the list here).
  app.get("/v1/feed-cursors", async (request) => {
    if (request.principal.access !== "read-write")
      throw new HttpError(403, "LOGBOOK_FORBIDDEN", "feed cursors need a read-write token");
    const own = `${request.principal.tenant}/`;
    return {
      items: store.feedCursors
        .list()
        .filter((c) => c.name.startsWith(own))
        .map(publicInfo),
    };
  });

  app.put<{ Params: { name: string } }>("/v1/feed-cursors/:name", async (request, reply) => {
    const name = cursorName(request, request.params.name);
    const fromLsn = optionalLsn(request.body, "fromLsn");
    const info = await store.feedCursors.create(name, fromLsn === undefined ? {} : { fromLsn });
    return reply.code(201).send(publicInfo(info));
  });

  app.post<{ Params: { name: string } }>("/v1/feed-cursors/:name/ack", async (request) => {
    const name = cursorName(request, request.params.name);
    const lsn = optionalLsn(request.body, "lsn");
    if (lsn === undefined) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", 'the body must be {"lsn": <the last LSN processed>}');
    await store.feedCursors.ack(name, lsn);
    return cursorInfo(store, name);
  });

  app.delete<{ Params: { name: string } }>("/v1/feed-cursors/:name", async (request, reply: FastifyReply) => {
    const name = cursorName(request, request.params.name);
    await store.feedCursors.drop(name);
    return reply.send({ name: request.params.name, deleted: true });
  });
}

function cursorInfo(store: Store, name: string): FeedCursorInfo {
  const info = store.feedCursors.list().find((c) => c.name === name);
  if (info === undefined) throw new HttpError(404, "LOGBOOK_NOT_FOUND", "no such feed cursor");
  return publicInfo(info);
}

/** A non-negative integer field of an optional JSON object body. */
function optionalLsn(body: unknown, field: string): number | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "the body must be a JSON object");
  }
  const extra = Object.keys(body).find((name) => name !== field);
  if (extra !== undefined) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `unknown field ${extra}`);
  const value = (body as Record<string, unknown>)[field];
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new HttpError(400, "LOGBOOK_BAD_REQUEST", `${field} must be a non-negative integer LSN`);
  }
  return value;
}
