/**
 * The HTTP application: Fastify with our body parser, authentication, backpressure and
 * error shape, the key-value routes and the health routes. The HTTP server under it (timeouts,
 * TLS) is made by server.ts and handed in through `serverFactory`.
 */

import { isUtf8 } from "node:buffer";
import type { Server } from "node:http";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerFactory, LogController } from "fastify";
import type { Logger } from "pino";
import type { Store } from "../store/store.js";
import type { Admission } from "./admission.js";
import type { Authenticator } from "./auth.js";
import { HttpError, toHttpError } from "./http-error.js";
import { registerKvRoutes } from "./kv-routes.js";

export interface AppOptions {
  store: Store;
  authenticator: Authenticator;
  admission: Admission;
  logger: Logger;
  serverFactory: FastifyServerFactory;
  bodyBytesMax: number;
  keyBytesMax: number;
  batchOperationsMax: number;
  listLimitMax: number;
  idempotencyTtlMs: number;
  /** False once shutdown began: /readyz says so before the listener closes. */
  isAccepting: () => boolean;
}

const MUTATING = new Set(["PUT", "POST", "DELETE", "PATCH"]);

export function buildApp(options: AppOptions): FastifyInstance<Server> {
  const { store, authenticator, admission } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    // Per-request lines come from our own hook (issue 6); Fastify's two per request cost throughput.
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: options.serverFactory,
    bodyLimit: options.bodyBytesMax,
    return503OnClosing: true,
    // The router's own refusals (a URL that is not valid percent-encoding) in our error shape.
    frameworkErrors: (error, _request, reply) => {
      const http = toHttpError(error);
      (reply as unknown as FastifyReply).code(http.statusCode).type("application/json").send(JSON.stringify(http.body()));
    },
    forceCloseConnections: "idle",
    routerOptions: {
      // Keys are read from the raw URL; the router only has to let long ones through.
      maxParamLength: options.keyBytesMax * 3 + 16,
    },
  }) as unknown as FastifyInstance<Server>;

  app.decorateRequest("principal", undefined as never);
  app.decorateRequest("bodyText", undefined);

  // JSON bodies are checked (strict UTF-8, valid JSON) and kept as sent: a PUT stores the
  // client's bytes as they are, and a retry's fingerprint covers them exactly.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body: Buffer, done) => {
    if (body.byteLength === 0) return done(new HttpError(400, "LOGBOOK_BAD_REQUEST", "the body is empty"), undefined);
    if (!isUtf8(body)) return done(new HttpError(400, "LOGBOOK_BAD_REQUEST", "the body is not valid UTF-8"), undefined);
    const text = body.toString("utf8");
    try {
      const parsed: unknown = JSON.parse(text);
      request.bodyText = text;
      done(null, parsed);
    } catch {
      done(new HttpError(400, "LOGBOOK_BAD_REQUEST", "the body is not valid JSON"), undefined);
    }
  });

  app.addHook("onRequest", async (request) => {
    // Only origin-form targets ("/path"): an absolute URI ("http://host/path") is routed by
    // path too, so checks that look at the URL would see something other than the route.
    if (!request.url.startsWith("/")) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "the request target must be a path");
    // Every route needs a token but those marked public (health); unknown routes included.
    if ((request.routeOptions.config as { public?: boolean }).public === true) return;
    request.principal = authenticator.authenticate(singleAuthorization(request.headers.authorization));
    if (MUTATING.has(request.method)) {
      // Refuse before the body is read: a write we can't take should cost us nothing.
      const failure = store.failure;
      if (failure !== undefined) {
        throw new HttpError(503, "LOGBOOK_UNAVAILABLE", `the store cannot take writes: ${failure.message}`, {
          headers: { "retry-after": "5" },
        });
      }
      if (request.principal.access !== "read-write") {
        throw new HttpError(403, "LOGBOOK_FORBIDDEN", "this token may only read");
      }
      admission.checkRoom();
    }
  });

  app.setErrorHandler((error, request, reply) => {
    const http = toHttpError(error);
    if (http.statusCode >= 500) request.log.error({ err: error, route: request.routeOptions.url }, "request failed");
    reply.code(http.statusCode).headers(http.headers).type("application/json").send(JSON.stringify(http.body()));
  });
  app.setNotFoundHandler((request, reply) => {
    const body = new HttpError(404, "LOGBOOK_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`).body();
    reply.code(404).type("application/json").send(JSON.stringify(body));
  });

  app.get("/healthz", { config: { public: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { config: { public: true } }, async (_request, reply) => {
    const failure = store.failure;
    const reason = !options.isAccepting()
      ? "shutting down"
      : store.isClosed
        ? "the store is closed"
        : failure !== undefined
          ? `the log failed: ${failure.code}`
          : undefined;
    if (reason !== undefined) return reply.code(503).send({ status: "unavailable", reason });
    return { status: "ready", appliedLsn: store.stats().appliedLsn };
  });

  registerKvRoutes(app, {
    store,
    admission,
    keyBytesMax: options.keyBytesMax,
    batchOperationsMax: options.batchOperationsMax,
    listLimitMax: options.listLimitMax,
    idempotencyTtlMs: options.idempotencyTtlMs,
  });
  return app;
}

function singleAuthorization(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "Authorization must be given once");
  return value;
}
