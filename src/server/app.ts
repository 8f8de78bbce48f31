/**
 * The HTTP application: Fastify with our body parser, authentication, backpressure and
 * error shape, the key-value routes and the health routes. The HTTP server under it (timeouts,
 * TLS) is made by server.ts and handed in through `serverFactory`.
 */

import { isUtf8 } from "node:buffer";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server } from "node:http";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerFactory,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import type { Store } from "../store/index.js";
import type { Admission } from "./admission.js";
import type { Authenticator } from "./auth.js";
import { registerConnectionOrder } from "./connection-order.js";
import { registerFeedRoutes } from "./feed-routes.js";
import { answerClientError, HttpError, singleHeader, toHttpError } from "./http-error.js";
import { registerKvRoutes } from "./kv-routes.js";
import type { LongRequests } from "./long-requests.js";
import { registerStatusRoutes } from "./status-page.js";
import { registerStreamRoutes } from "./stream-routes.js";
import type { RequestTrace, Telemetry } from "./telemetry/index.js";

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
  listBytesMax: number;
  idempotencyTtlMs: number;
  /** The open change-feed streams and their ceiling. */
  feedConnections: LongRequests;
  feedHeartbeatMs: number;
  /** The blocking stream reads waiting, and their ceiling. */
  blockedReads: LongRequests;
  /** The longest a blocking stream read waits. */
  streamBlockMsMax: number;
  /** A connection silent this long is closed (a blocking read's wait is added to it). */
  idleTimeoutMs: number;
  /** False once shutdown began: /readyz says so before the listener closes. */
  isAccepting: () => boolean;
  /** Where every request is observed: metrics, traces, status figures, log lines. */
  telemetry: Telemetry;
  /** /metrics and /status.json need a token (any valid one), like the data routes. */
  protectObservability: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    /** When the request arrived (the observer notes it). */
    startedMs: number;
    /** The matched route's pattern ("unmatched" for none), noted once: see noteRoute, routeOf. */
    route: string;
    /** Whether the matched route needs no token (health, metrics, status). */
    isPublic: boolean;
    /** The request's trace when tracing is on (the observer notes it). */
    trace: RequestTrace | undefined;
    /** Whether the request's metrics and log line were taken (it may end by response or abort). */
    observed: boolean;
  }
}

/** A client's X-Request-Id when it is a sensible one, else a fresh UUID. */
function correlationIdOf(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && /^[\x21-\x7e]{1,128}$/.test(given) ? given : randomUUID();
}

const MUTATING = new Set(["PUT", "POST", "DELETE", "PATCH"]);

/**
 * Notes the request's route on it. Fastify's `routeOptions` getter builds a new object of
 * thirteen fields at each read; the hooks and the request's observation read it
 * here once instead of three times.
 */
function noteRoute(request: FastifyRequest): void {
  const routeOptions = request.routeOptions;
  request.route = routeOptions.url ?? "unmatched";
  request.isPublic = (routeOptions.config as { public?: boolean }).public === true;
}

/** The request's route, noted now if the request ended or failed before the first hook ran. */
function routeOf(request: FastifyRequest): string {
  if (request.route === "") noteRoute(request);
  return request.route;
}

export function buildApp(options: AppOptions): FastifyInstance<Server> {
  const app = createFastify(options);
  app.decorateRequest("principal", undefined as never);
  app.decorateRequest("bodyText", undefined);
  app.decorateRequest("startedMs", 0);
  app.decorateRequest("route", "");
  app.decorateRequest("isPublic", false);
  app.decorateRequest("trace", undefined);
  app.decorateRequest("observed", false);
  // Observation first, so that every request (refused ones too) is counted, traced and logged.
  registerObservation(app, options.telemetry);
  // Before anything acts on a request: a request behind a write on its connection sees it.
  registerConnectionOrder(app);
  registerJsonBodies(app);
  registerRequestChecks(app, options);
  registerErrorAnswers(app, options.telemetry);
  registerHealthRoutes(app, options);

  const { store, telemetry } = options;
  const observabilityIsPublic = !options.protectObservability;
  registerStatusRoutes(app, {
    store,
    telemetry,
    feedConnections: options.feedConnections,
    blockedReads: options.blockedReads,
    figuresArePublic: observabilityIsPublic,
  });
  if (telemetry.metricsEnabled) {
    app.get("/metrics", { config: { public: observabilityIsPublic } }, async (_request, reply) => {
      const exposition = await telemetry.metricsExposition();
      if (exposition === undefined) throw new HttpError(404, "LOGBOOK_NOT_FOUND", "metrics are off");
      reply.type(exposition.contentType).send(exposition.text);
    });
  }
  registerKvRoutes(app, {
    store,
    admission: options.admission,
    observer: telemetry,
    keyBytesMax: options.keyBytesMax,
    batchOperationsMax: options.batchOperationsMax,
    listLimitMax: options.listLimitMax,
    listBytesMax: options.listBytesMax,
    idempotencyTtlMs: options.idempotencyTtlMs,
  });
  registerFeedRoutes(app, { store, connections: options.feedConnections, heartbeatMs: options.feedHeartbeatMs });
  registerStreamRoutes(app, {
    store,
    admission: options.admission,
    keyBytesMax: options.keyBytesMax,
    idempotencyTtlMs: options.idempotencyTtlMs,
    listLimitMax: options.listLimitMax,
    blockedReads: options.blockedReads,
    blockMsMax: options.streamBlockMsMax,
    idleTimeoutMs: options.idleTimeoutMs,
  });
  return app;
}

function createFastify(options: AppOptions): FastifyInstance<Server> {
  return Fastify({
    loggerInstance: options.logger,
    // One line per request comes from the observer; Fastify's own two would double it.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "correlationId" }),
    genReqId: correlationIdOf,
    serverFactory: options.serverFactory,
    bodyLimit: options.bodyBytesMax,
    // Requests that arrive while the server drains are refused by our onRequest hook, in our
    // error shape (Fastify's own 503 has another).
    return503OnClosing: false,
    // The HTTP parser's refusals (bad framing, headers too large, timeouts) in our error shape.
    clientErrorHandler: answerClientError,
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
}

/** Tells the observer of every request's start and its one end (an answer, or the client's abort). */
function registerObservation(app: FastifyInstance<Server>, telemetry: Telemetry): void {
  app.addHook("onRequest", async (request, reply) => {
    noteRoute(request);
    reply.header("x-request-id", request.id);
    const traceparent = telemetry.requestStarted(request);
    if (traceparent !== undefined) reply.header("traceparent", traceparent);
  });
  const observe = (request: FastifyRequest, status: number) => {
    if (request.observed) return;
    request.observed = true;
    routeOf(request);
    telemetry.requestFinished(request, status, request.principal?.tenant);
  };
  app.addHook("onResponse", async (request, reply) => observe(request, reply.statusCode));
  // A client that goes away before its answer: logged with the status nginx made familiar.
  app.addHook("onRequestAbort", async (request) => observe(request, 499));
}

/**
 * JSON bodies are checked (strict UTF-8, valid JSON) and kept as sent: a PUT stores the
 * client's bytes as they are, and a retry's fingerprint covers them exactly.
 */
function registerJsonBodies(app: FastifyInstance<Server>): void {
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
}

/** What every request must pass before its route runs: its target's form, the token, and room for a write. */
function registerRequestChecks(app: FastifyInstance<Server>, options: AppOptions): void {
  const { store, authenticator, admission } = options;
  app.addHook("onRequest", async (request) => {
    // Only origin-form targets ("/path"): an absolute URI ("http://host/path") is routed by
    // path too, so checks that look at the URL would see something other than the route.
    if (!request.url.startsWith("/")) throw new HttpError(400, "LOGBOOK_BAD_REQUEST", "the request target must be a path");
    // Every route needs a token but those marked public (health, the status page's HTML, and
    // /metrics and /status.json unless protectObservability); unknown routes included.
    if (request.isPublic) return;
    if (!options.isAccepting()) {
      // Connection: close, so that a client pipelining behind this request stops sending.
      throw new HttpError(503, "LOGBOOK_UNAVAILABLE", "the server is shutting down", {
        headers: { "retry-after": "1", connection: "close" },
      });
    }
    request.principal = authenticator.authenticate(singleHeader(request.headers, "authorization"));
    if (MUTATING.has(request.method)) {
      // Refuse before the body is read: a write we can't take should cost us nothing.
      const failure = store.failure;
      if (failure !== undefined) {
        throw new HttpError(503, "LOGBOOK_UNAVAILABLE", `the store cannot take writes: ${failure.message}`, {
          headers: { "retry-after": "5" },
          cause: failure,
        });
      }
      if (request.principal.access !== "read-write") {
        throw new HttpError(403, "LOGBOOK_FORBIDDEN", "this token may only read");
      }
      admission.checkRoom();
    }
  });
}

/** Errors and unknown routes answered in our error shape; refusals and server errors told. */
function registerErrorAnswers(app: FastifyInstance<Server>, telemetry: Telemetry): void {
  app.setErrorHandler((error, request, reply) => {
    const http = toHttpError(error);
    if (http.code === "LOGBOOK_UNAVAILABLE") telemetry.refused(http, routeOf(request));
    else if (http.statusCode >= 500) request.log.error({ err: error, route: routeOf(request) }, "request failed");
    reply.code(http.statusCode).headers(http.headers).type("application/json").send(JSON.stringify(http.body()));
  });
  app.setNotFoundHandler((request, reply) => {
    const body = new HttpError(404, "LOGBOOK_NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]}`).body();
    reply.code(404).type("application/json").send(JSON.stringify(body));
  });
}

function registerHealthRoutes(app: FastifyInstance<Server>, options: AppOptions): void {
  const { store } = options;
  // Liveness: a failed log refuses writes until the process restarts, so a failed store is
  // not alive; a liveness probe that sees 503 restarts the server, whose open runs recovery.
  app.get("/healthz", { config: { public: true } }, async (_request, reply) => {
    const failure = store.failure;
    if (failure !== undefined) return reply.code(503).send({ status: "failed", code: failure.code, reason: failure.message });
    return { status: "ok" };
  });
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
}
