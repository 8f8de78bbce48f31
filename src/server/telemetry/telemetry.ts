/**
 * The server's one observer. Routes tell it what happens to requests and writes; it turns that
 * into metrics, traces, the status page's figures and log lines (one per request, one per
 * class of refusal per interval). The server hands it each group commit (`commitSeen`).
 * Everything it keeps on the hot path is a few numbers per request; with tracing off, a request
 * allocates nothing here.
 */
import type { Logger } from "pino";
import type { CommitInfo } from "../../log/index.js";
import type { Store } from "../../store/index.js";
import type { Admission } from "../admission.js";
import type { HttpError } from "../http-error.js";
import { CommandLog } from "./command-log.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { type CommitObservation, RecentCommits } from "./recent-commits.js";
import { RefusalLog, refusalClass } from "./refusal-log.js";
import { type RespFigures, RespMetrics } from "./resp-metrics.js";
import { type StatusFigures, StatusWindow } from "./status-window.js";
import { type RequestTrace, type TracedRequest, Tracing } from "./tracing.js";
import { startSdk, tracingRequested } from "./tracing-sdk.js";

/** A request as the observer sees it; the application's request object carries these fields. */
export interface ObservedRequest {
  /** The correlation id (the client's X-Request-Id, or one of ours). */
  readonly id: string;
  readonly method: string;
  /** The matched route's pattern ("unmatched" for none), noted before the observer is called. */
  readonly route: string;
  readonly headers: Record<string, unknown>;
  /** performance.now() when the request arrived: set by requestStarted. */
  startedMs: number;
  /** The request's trace when tracing is on: set by requestStarted. */
  trace: RequestTrace | undefined;
}

/** What routes tell the observer. */
export interface RequestObserver {
  /** A request arrived: it is counted in flight and its trace begins. Answers the `traceparent` to send back, if any. */
  requestStarted(request: ObservedRequest): string | undefined;
  /** A request was answered with `status` (499: its client went away first). Called once per request. */
  requestFinished(request: ObservedRequest, status: number, tenantId: string | undefined): void;
  /** Runs the request's store write of `operations` operations; a traced request notes its times and group commit. */
  observeWrite(request: ObservedRequest, operations: number, write: () => Promise<number>): Promise<number>;
  /** A write refused because the store cannot take it (LOGBOOK_UNAVAILABLE). */
  refused(error: HttpError, route: string): void;
}

/**
 * What the Redis endpoint tells the observer of its commands. Called on the event loop per
 * command: with metrics on and tracing and the access log off, a command costs a map lookup
 * and a few additions here, and allocates nothing.
 */
export interface CommandObserver {
  /** The endpoint opened: its figures are exported with the metrics from now on. */
  endpointOpened(figures: RespFigures): void;
  /** A command starts running: its trace when tracing is on and it is sampled, else undefined. */
  commandStarted(command: string): TracedRequest | undefined;
  /**
   * A command answered after `seconds` (a write once durable); `error`: the prefix of its error
   * reply, if it answered one. `command` is the table's name, never what the client sent.
   */
  commandFinished(
    command: string,
    clientId: number,
    address: string,
    tenantId: string | undefined,
    seconds: number,
    error: string | undefined,
    trace: TracedRequest | undefined,
  ): void;
  /** A command refused before it ran (`command`: "unknown" for a name the table lacks). */
  commandRejected(command: string, clientId: number, address: string, tenantId: string | undefined, error: string): void;
}

export interface TelemetryOptions {
  store: Store;
  admission: Admission;
  /** The open change-feed streams, counted in the metrics. */
  feedConnections: { readonly size: number; readonly rejected: number };
  /** The blocking stream reads waiting over HTTP, counted in the metrics. */
  blockedReads?: { readonly size: number; readonly rejected: number };
  logger: Logger;
  /** Prometheus metrics, served at /metrics. */
  metrics: boolean;
  /** One JSON log line per request (carrying its trace id when tracing is on). */
  accessLog: boolean;
  /**
   * Tracing on or off regardless of the environment (tests register their own provider). By
   * default it is on when the OTEL_* variables configure an exporter, and the SDK is started.
   */
  tracing?: boolean;
}

export class Telemetry implements RequestObserver, CommandObserver {
  private readonly metrics: Metrics | undefined;
  private respMetrics: RespMetrics | undefined;
  private readonly commandLog: CommandLog | undefined;
  private readonly recentCommits = new RecentCommits();
  private readonly statusWindow = new StatusWindow();
  private readonly refusals: RefusalLog;
  private readonly logger: Logger;
  private readonly accessLog: boolean;
  private readonly commitOf = (lsn: number): CommitObservation | undefined => this.recentCommits.find(lsn);

  /** Starts tracing's SDK first when the environment asks for it. */
  static async start(options: TelemetryOptions): Promise<Telemetry> {
    if (options.tracing !== undefined || !tracingRequested(process.env)) {
      return new Telemetry(options, new Tracing(options.tracing === true, undefined, options.accessLog), undefined);
    }
    const sdk = await startSdk();
    return new Telemetry(options, new Tracing(true, sdk.ours, options.accessLog), sdk.shutdown);
  }

  private constructor(
    options: TelemetryOptions,
    private readonly tracing: Tracing,
    private readonly stopSdk: (() => Promise<void>) | undefined,
  ) {
    this.metrics = options.metrics
      ? createMetrics(options.store, options.admission, {
          feedConnections: options.feedConnections,
          ...(options.blockedReads === undefined ? {} : { blockedReads: options.blockedReads }),
        })
      : undefined;
    this.logger = options.logger;
    this.accessLog = options.accessLog;
    this.commandLog = options.accessLog ? new CommandLog(options.logger) : undefined;
    this.refusals = new RefusalLog(options.logger);
  }

  get tracingEnabled(): boolean {
    return this.tracing.enabled;
  }

  get metricsEnabled(): boolean {
    return this.metrics !== undefined;
  }

  requestStarted(request: ObservedRequest): string | undefined {
    request.startedMs = performance.now();
    this.metrics?.requestStarted();
    if (!this.tracing.enabled) return undefined;
    const trace = this.tracing.startRequest(request.method, request.route, request.headers);
    request.trace = trace;
    return trace?.traceparent;
  }

  requestFinished(request: ObservedRequest, status: number, tenantId: string | undefined): void {
    const latencyMs = performance.now() - request.startedMs;
    const { route, method } = request;
    const metrics = this.metrics;
    if (metrics !== undefined) {
      metrics.requestEnded();
      metrics.observeRequest(route, method, status, latencyMs / 1000);
    }
    const traced = request.trace?.traced;
    if (traced !== undefined) this.tracing.endRequest(traced, status, tenantId);
    this.statusWindow.request(status);
    if (!this.accessLog) return;
    const traceId = request.trace?.traceId;
    // The root logger with the correlation id as a field: one level of bindings fewer than
    // the request's child logger, and the same line.
    this.logger.info(
      {
        correlationId: request.id,
        tenantId,
        route,
        method,
        status,
        latencyMs: Math.round(latencyMs * 1000) / 1000,
        ...(traceId === undefined ? {} : { traceId }),
      },
      "request",
    );
  }

  observeWrite(request: ObservedRequest, operations: number, write: () => Promise<number>): Promise<number> {
    const traced = request.trace?.traced;
    if (traced === undefined) return write();
    return this.tracing.traceWrite(traced, operations, write, this.commitOf);
  }

  refused(error: HttpError, route: string): void {
    this.refusals.refused(refusalClass(error), route, error.message);
  }

  endpointOpened(figures: RespFigures): void {
    if (this.metrics !== undefined) this.respMetrics ??= new RespMetrics(this.metrics.registry, figures);
  }

  commandStarted(command: string): TracedRequest | undefined {
    return this.tracing.enabled ? this.tracing.startCommand(command) : undefined;
  }

  commandFinished(
    command: string,
    clientId: number,
    address: string,
    tenantId: string | undefined,
    seconds: number,
    error: string | undefined,
    trace: TracedRequest | undefined,
  ): void {
    this.respMetrics?.observe(command, seconds, error !== undefined);
    if (trace !== undefined) this.tracing.endCommand(trace, error, tenantId);
    this.commandLog?.write(command, clientId, address, tenantId, seconds, error, trace?.traceId);
  }

  commandRejected(command: string, clientId: number, address: string, tenantId: string | undefined, error: string): void {
    this.respMetrics?.reject(command);
    this.commandLog?.write(command, clientId, address, tenantId, 0, error, undefined);
  }

  /**
   * A group commit was acknowledged (the store's `commit` event, once per commit): its figures
   * go to the metrics, the status window and, for traced writes to find, the recent commits.
   */
  commitSeen(info: CommitInfo): void {
    this.metrics?.commitSeen(info);
    this.statusWindow.commit(info);
    if (this.tracing.enabled) this.recentCommits.add(info);
  }

  /** The metrics in Prometheus' text format; undefined when metrics are off. */
  async metricsExposition(): Promise<{ contentType: string; text: string } | undefined> {
    const metrics = this.metrics;
    if (metrics === undefined) return undefined;
    return { contentType: metrics.registry.contentType, text: await metrics.registry.metrics() };
  }

  /** Request counts and recent group commits, for the status page. */
  statusFigures(): StatusFigures {
    return this.statusWindow.figures();
  }

  /** Sends the traces of answered requests to the export thread, which exports what it holds and stops. */
  async shutdown(): Promise<void> {
    if (this.stopSdk === undefined) return;
    this.tracing.flush();
    await this.stopSdk();
  }
}
