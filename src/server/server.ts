/**
 * A running Logbook server: the store of a data directory behind the HTTP API, with the
 * lifecycle a service needs (listen, drain, make durable, checkpoint, close).
 */
import { createServer as createHttpServer, type Server, type ServerOptions } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { FastifyInstance, FastifyServerFactory } from "fastify";
import { type Logger, pino } from "pino";
import { LogbookError } from "../errors.js";
import type { FileSystem } from "../io/index.js";
import { Store } from "../store/index.js";
import { Admission } from "./admission.js";
import { buildApp } from "./app.js";
import { Authenticator } from "./auth.js";
import { isLoopback, type ServerConfig } from "./config.js";
import { HttpError } from "./http-error.js";
import { IDEMPOTENCY_KEY_LENGTH_MAX } from "./idempotency.js";
import { IdempotencySweeper } from "./idempotency-sweeper.js";
import { asListenError } from "./listen-error.js";
import { LongRequests } from "./long-requests.js";
import { RespServer, type RespSettings } from "./resp/index.js";
import { checkSpaceForNewStore } from "./startup-space.js";
import { SwappableStore } from "./swappable-store.js";
import { LogDestination, Telemetry } from "./telemetry/index.js";
import { readTlsSettings } from "./tls-settings.js";

const LOG_FLUSH_INTERVAL_MS = 200;

/** Namespaced keys carry a short prefix (`k/<tenant>/`) on top of what clients may send. */
const NAMESPACE_BYTES_MAX = 2 + 64 + 1;

export interface StartOptions {
  logger?: Logger;
  /**
   * Tracing on or off regardless of the environment (tests register their own provider).
   * By default it is on when the OTEL_* variables configure an exporter, and the SDK is
   * started here.
   */
  tracing?: boolean;
  /** The disk under the store (tests substitute a faulty or slow one). */
  fileSystem?: FileSystem;
  /** What a client's SHUTDOWN (Redis endpoint) does; by default the server closes itself. */
  onShutdownRequest?: () => void;
}

export class LogbookServer {
  private accepting = true;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: ServerConfig,
    readonly store: Store,
    readonly app: FastifyInstance<Server>,
    readonly logger: Logger,
    private readonly sweeper: IdempotencySweeper,
    private readonly telemetry: Telemetry,
    private readonly closeLog: () => void,
    /** The Redis-protocol endpoint, unless respPort is 0. */
    readonly resp: RespServer | undefined,
  ) {}

  static async start(config: ServerConfig, options: StartOptions = {}): Promise<LogbookServer> {
    const authenticator = authenticatorFor(config);
    // Log lines are buffered and written asynchronously in blocks, at least every
    // LOG_FLUSH_INTERVAL_MS: a line per request must not cost a write(2) per request.
    const destination = options.logger === undefined ? new LogDestination(1, LOG_FLUSH_INTERVAL_MS) : undefined;
    const logger =
      options.logger ??
      pino(
        { level: config.logLevel, base: { service: "logbook" }, redact: ["req.headers.authorization", "tokens"] },
        destination,
      );
    const tls = readTlsSettings(config);
    const swappable = new SwappableStore(await openStore(config, options.fileSystem));
    const store = swappable.store;
    let server: LogbookServer | undefined;
    let telemetry: Telemetry | undefined;
    try {
      const admission = new Admission(config);
      const feedConnections = new LongRequests(config.feedConnectionsMax, "change feeds may be open at once");
      const blockedReads = new LongRequests(config.streamBlockedReadsMax, "blocking stream reads may wait at once");
      telemetry = await Telemetry.start({
        store,
        admission,
        feedConnections,
        blockedReads,
        logger,
        metrics: config.metrics,
        accessLog: config.accessLog,
        tracing: options.tracing,
      });
      const observer = telemetry;
      store.on("commit", (info) => observer.commitSeen(info));
      logStoreEvents(store, logger);
      const app = buildApp({
        store,
        authenticator,
        admission,
        logger,
        bodyBytesMax: config.bodyBytesMax,
        keyBytesMax: config.keyBytesMax,
        batchOperationsMax: config.batchOperationsMax,
        listLimitMax: config.listLimitMax,
        listBytesMax: config.listBytesMax,
        idempotencyTtlMs: config.idempotencyTtlMs,
        feedConnections,
        feedHeartbeatMs: config.feedHeartbeatMs,
        blockedReads,
        streamBlockMsMax: config.streamBlockMsMax,
        idleTimeoutMs: config.idleTimeoutMs,
        isAccepting: () => server?.accepting ?? false,
        protectObservability: config.protectObservability ?? !isLoopback(config.host),
        telemetry,
        serverFactory: httpServerFactory(config, tls),
      });
      const sweeper = new IdempotencySweeper(store, config.idempotencySweepMs, (error) =>
        logger.warn({ err: error }, "sweeping expired idempotency keys failed"),
      );
      const resp =
        config.respPort === 0
          ? undefined
          : new RespServer({
              store,
              authenticator,
              admission,
              logger,
              tls,
              settings: respSettings(config),
              observer: telemetry,
              shutdown: () => (options.onShutdownRequest ?? (() => void server?.close()))(),
              reopenStore: () => swappable.reopen(() => openStore(config, options.fileSystem)),
            });
      server = new LogbookServer(config, store, app, logger, sweeper, telemetry, () => destination?.close(), resp);
      await app.listen({ host: config.host, port: config.port }).catch((error: unknown) => {
        throw asListenError(error, config.host, config.port);
      });
      await resp?.listen(config.host, config.respPort);
      sweeper.start();
      logger.info(
        {
          address: server.url,
          ...(resp === undefined ? {} : { redis: resp.url }),
          config: { ...config, tokens: `${config.tokens.length} configured` },
          recovery: { ...store.recovery, log: store.logStats.recovery },
          tracing: telemetry.tracingEnabled,
        },
        "logbook is serving",
      );
      // Whoever started us waits for that line: do not let it sit in the buffer.
      destination?.flush();
      return server;
    } catch (error) {
      destination?.close();
      await server?.resp?.close().catch(() => undefined);
      await server?.app.close().catch(() => undefined);
      await telemetry?.shutdown().catch(() => undefined);
      await store.close();
      throw error;
    }
  }

  get address(): AddressInfo {
    return this.app.server.address() as AddressInfo;
  }

  get url(): string {
    const { address, port, family } = this.address;
    const host = family === "IPv6" ? `[${address}]` : address;
    return `${this.config.tlsCert === undefined ? "http" : "https"}://${host}:${port}`;
  }

  /**
   * Stops accepting, lets requests in flight finish (for at most `drainTimeoutMs`), makes the
   * log durable, checkpoints if configured, and closes the store. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.accepting = false;
      await this.sweeper.stop();
      await Promise.all([this.drain(), this.resp?.close(this.config.drainTimeoutMs)]);
      if (this.config.checkpointOnExit && this.store.failure === undefined) {
        try {
          await this.store.checkpoint();
        } catch (error) {
          this.logger.error({ err: error }, "the checkpoint at shutdown failed; the log still holds every write");
        }
      }
      await this.store.close();
      await this.telemetry.shutdown().catch((error: unknown) => this.logger.warn({ err: error }, "flushing traces failed"));
      this.logger.info({ appliedLsn: this.store.stats().appliedLsn }, "logbook stopped");
      this.closeLog();
    })();
    return this.closing;
  }

  /**
   * Closes the listener and waits until the connections are closed, for at most
   * `drainTimeoutMs`. Node stops enforcing the header and request timeouts once its server is
   * closing, so without a deadline a client trickling a body in would hold the shutdown as long
   * as it liked. Past the deadline the connections still open are destroyed: their requests
   * got no answer, so none of them was acknowledged.
   */
  private async drain(): Promise<void> {
    const closed = this.app.close();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), this.config.drainTimeoutMs);
    });
    let outcome: "drained" | "deadline";
    try {
      outcome = await Promise.race([closed.then(() => "drained" as const), deadline]);
    } finally {
      clearTimeout(timer);
    }
    if (outcome === "drained") return;
    this.logger.warn(
      { drainTimeoutMs: this.config.drainTimeoutMs },
      "requests still in flight at the drain deadline: closing their connections",
    );
    this.app.server.closeAllConnections();
    await closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function respSettings(config: ServerConfig): RespSettings {
  return {
    bulkBytesMax: config.respBulkBytesMax,
    multibulkCountMax: config.respMultibulkCountMax,
    inlineBytesMax: config.respInlineBytesMax,
    outputBytesMax: config.respOutputBytesMax,
    pipelineBytesMax: config.respPipelineBytesMax,
    clientsMax: config.respClientsMax,
    idleTimeoutMs: config.respIdleTimeoutMs,
    blockMsMax: config.streamBlockMsMax,
    blockedClientsMax: config.streamBlockedReadsMax,
  };
}

/** The configured tokens; none is allowed only on loopback. */
function authenticatorFor(config: ServerConfig): Authenticator {
  const authenticator = new Authenticator(config.tokens);
  if (!authenticator.enabled && !isLoopback(config.host)) {
    throw new LogbookError(
      "LOGBOOK_INVALID_OPTION",
      `no tokens are configured, so the server only listens on loopback, not on ${config.host} (configure tokens first)`,
    );
  }
  return authenticator;
}

/**
 * Opens the store of the data directory. Before anything is created, a new store that cannot
 * fit its first segment is refused whole, rather than failing halfway and leaving a partial
 * segment that fills the volume (not checked on a substituted disk).
 */
async function openStore(config: ServerConfig, fileSystem: FileSystem | undefined): Promise<Store> {
  if (fileSystem === undefined) await checkSpaceForNewStore(resolve(config.dataDir), config);
  return Store.open(resolve(config.dataDir), {
    sync: config.sync,
    syncIntervalMs: config.syncIntervalMs,
    valueEncoding: "utf8",
    // Idempotency records are keys too: up to 255 header characters, each at most 2 UTF-8 bytes.
    keyBytesMax: Math.max(config.keyBytesMax, 2 * IDEMPOTENCY_KEY_LENGTH_MAX) + NAMESPACE_BYTES_MAX,
    valueBytesMax: Math.max(config.bodyBytesMax, 64 * 1024, config.respPort === 0 ? 0 : config.respBulkBytesMax),
    checkpointEveryBytes: config.checkpointEveryBytes,
    feedCursorLagBytesMax: config.feedCursorLagBytesMax,
    segmentBytes: config.segmentBytes,
    preallocate: config.preallocate,
    commitOnEventLoop: config.commitOnEventLoop,
    ...(fileSystem === undefined ? {} : { fileSystem }),
  });
}

/** The store's checkpoints, failures and dropped feed cursors, as log lines. */
function logStoreEvents(store: Store, logger: Logger): void {
  store.on("checkpoint", (info) => logger.info({ checkpoint: info }, "checkpoint written"));
  store.on("checkpointFailed", (error) => logger.error({ err: error }, "checkpoint failed; the log still holds every write"));
  store.on("failure", (error) =>
    logger.error({ err: error, code: error.code }, "the log failed: writes are refused until a restart; reads go on"),
  );
  store.on("cursorDropped", (event) =>
    logger.warn(
      { cursor: event.name, lsn: event.lsn, lagBytes: event.lagBytes, code: event.error.code },
      "a feed cursor fell too far behind and was dropped; its consumer must resync from a snapshot",
    ),
  );
}

/** The HTTP (or HTTPS) server under Fastify: its timeouts, connection ceiling and answer to Expect: 100-continue. */
function httpServerFactory(config: ServerConfig, tls: ReturnType<typeof readTlsSettings>): FastifyServerFactory {
  return (handler) => {
    const http: ServerOptions = {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      keepAliveTimeout: config.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, config.headersTimeoutMs / 2)),
    };
    const created =
      tls === undefined
        ? createHttpServer(http, handler)
        : createHttpsServer({ ...http, ...tls, handshakeTimeout: config.headersTimeoutMs }, handler);
    // A client that asks before sending a body we would refuse is told so at once,
    // rather than invited to upload it (Node answers 100 Continue by default).
    created.on("checkContinue", (request, response) => {
      const declared = Number(request.headers["content-length"]);
      if (Number.isFinite(declared) && declared > config.bodyBytesMax) {
        const body = new HttpError(413, "LOGBOOK_BODY_TOO_LARGE", `a body is at most ${config.bodyBytesMax} bytes`).body();
        response.writeHead(413, { "content-type": "application/json; charset=utf-8", connection: "close" });
        response.end(JSON.stringify(body));
        return;
      }
      response.writeContinue();
      handler(request, response);
    });
    created.setTimeout(config.idleTimeoutMs);
    created.maxConnections = config.connectionsMax;
    return created;
  };
}
