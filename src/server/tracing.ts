/**
 * OpenTelemetry tracing through `@opentelemetry/api`. The SDK (with its OTLP exporter) is
 * loaded only when the standard OTEL_* variables ask for it; otherwise `enabled` is false and
 * the server does not create a single span object, so tracing off costs one boolean test.
 *
 * Spans of a write: the request (SERVER), the store write, and under it the log's group commit
 * the write joined (with its batch size) and that commit's fdatasync. A group commit serves
 * many requests, so each request gets its own copy of those two spans, timed from the commit.
 */
import {
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { CommitInfo } from "../log/writer.js";
import type { HeadSampling } from "./head-sampling.js";

const TRACER_NAME = "logbook";

/** What the environment asks for: an exporter is configured and the SDK is not disabled. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined) return exporter.split(",").some((name) => name.trim() !== "none" && name.trim() !== "");
  return env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
}

/**
 * Starts the OpenTelemetry trace SDK as the OTEL_* variables configure it (exporter, endpoint,
 * headers, sampler, batch sizes, service name and resource attributes) and registers it with
 * the W3C trace-context propagator; resolves with its shutdown, which flushes what is queued,
 * and the head sampling that decides for requests with the SDK's own sampler.
 * Not NodeSDK: it installs an AsyncLocalStorage context manager, whose promise hooks cost
 * every request (bench:server measured ~40% of throughput with it); we pass contexts explicitly.
 */
export async function startSdk(): Promise<{ shutdown: () => Promise<void>; headSampling: HeadSampling }> {
  const [{ propagation, trace: traceApi }, core, base, resources, otlp, config, { HeadSampling }] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/core"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    // The SDK's own reading of OTEL_TRACES_SAMPLER(_ARG), so both deciders are one object.
    import("@opentelemetry/sdk-trace-base/build/src/config.js"),
    import("./head-sampling.js"),
  ]);
  const names = (process.env.OTEL_TRACES_EXPORTER ?? "otlp").split(",").map((name) => name.trim());
  const processors = names.flatMap((name): import("@opentelemetry/sdk-trace-base").SpanProcessor[] => {
    if (name === "otlp") return [new base.BatchSpanProcessor(new otlp.OTLPTraceExporter())];
    if (name === "console") return [new base.SimpleSpanProcessor(new base.ConsoleSpanExporter())];
    return [];
  });
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ "service.name": process.env.OTEL_SERVICE_NAME ?? "logbook" }))
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const headSampling = new HeadSampling(config.buildSamplerFromEnv());
  const provider = new base.BasicTracerProvider({
    resource,
    spanProcessors: processors,
    sampler: headSampling.sampler,
    idGenerator: headSampling.ids,
  });
  traceApi.setGlobalTracerProvider(provider);
  // Only W3C trace context: Tracing reads a request without `traceparent` as a root on that basis.
  propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  return { shutdown: () => provider.shutdown(), headSampling };
}

/** The W3C `traceparent` of a span, as the propagator would write it. */
function traceparentOf(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`;
}

/** Wall-clock milliseconds for a performance.now() reading (span times are wall clock). */
function wallMs(performanceMs: number): number {
  return performance.timeOrigin + performanceMs;
}

export interface CommitObservation extends CommitInfo {
  /** performance.now() when the commit was seen acknowledged. */
  seenMs: number;
}

/** A request as traced: its span when one was made, and the ids it answers and logs with. */
export interface RequestTrace {
  /** Undefined when head sampling decided, before any span, not to record. */
  span: Span | undefined;
  /** The span's context when it records, for the spans under it. */
  context: Context | undefined;
  /** For the log line; undefined only for an unsampled new trace when no log line wants it. */
  traceId: string | undefined;
  /**
   * The answer's `traceparent`: when the request is sampled (there is a trace to look up) or
   * the caller sent one (its trace goes on through us); otherwise undefined.
   */
  traceparent: string | undefined;
}

/** An unsampled new trace whose id nobody reads: nothing to make, nothing to answer. */
const UNSAMPLED_ROOT: RequestTrace = Object.freeze({
  span: undefined,
  context: undefined,
  traceId: undefined,
  traceparent: undefined,
});

export class Tracing {
  private readonly tracer: Tracer | undefined;

  /**
   * `headSampling` comes with an SDK we started (startSdk); without it (a provider someone
   * else registered) every request's span is left to that provider to sample.
   * `traceIdsLogged`: request log lines are written, and carry every request's trace id.
   */
  constructor(
    readonly enabled: boolean,
    private readonly headSampling?: HeadSampling,
    private readonly traceIdsLogged = true,
  ) {
    this.tracer = enabled ? trace.getTracer(TRACER_NAME) : undefined;
  }

  /**
   * The request's span, child of the caller's `traceparent` when it sent one, and the
   * `traceparent` to answer with. Under head sampling most requests do not record: those get
   * no span when the sampling is ours, no context to hang children on either way, and an
   * unsampled new trace costs no more than a look at random bytes (plus its id in hex when the
   * log line wants it): no span, no span id, no answer.
   */
  startRequest(method: string, route: string, headers: Record<string, unknown>): RequestTrace | undefined {
    if (this.tracer === undefined) return undefined;
    const sampling = this.headSampling;
    // With our SDK the only propagator is W3C's (startSdk): no traceparent header, no parent.
    const root = sampling !== undefined && headers.traceparent === undefined;
    // A new trace under a ratio sampler is decided here from the id's bytes; others by decide().
    const decidedFromIds = root && sampling.decidesRootsFromIds;
    if (decidedFromIds && !sampling.sampleRoot()) {
      if (!this.traceIdsLogged) return UNSAMPLED_ROOT;
      return { span: undefined, context: undefined, traceId: sampling.ids.reservedTraceId(), traceparent: undefined };
    }
    const parent = root ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, headers);
    const name = `${method} ${route}`;
    const attributes = { "http.request.method": method, "http.route": route };
    if (sampling !== undefined && !decidedFromIds) {
      const unsampled = sampling.decide(parent, name, SpanKind.SERVER, attributes);
      if (unsampled !== undefined) {
        const { traceId, spanId } = unsampled;
        const traceparent = spanId === undefined ? undefined : traceparentOf(traceId, spanId, false);
        return { span: undefined, context: undefined, traceId, traceparent };
      }
    }
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    // Had the SDK not asked for a trace id (it always does for a root span), the preset must
    // not leak into an unrelated span.
    if (sampling !== undefined) sampling.ids.presetTraceId = undefined;
    const { traceId, spanId, traceFlags } = span.spanContext();
    const sampled = (traceFlags & TraceFlags.SAMPLED) !== 0;
    const answered = sampled || headers.traceparent !== undefined;
    return {
      span,
      context: span.isRecording() ? trace.setSpan(parent, span) : undefined,
      traceId,
      traceparent: answered ? traceparentOf(traceId, spanId, sampled) : undefined,
    };
  }

  endRequest(span: Span, status: number, tenantId: string | undefined): void {
    if (span.isRecording()) {
      span.setAttribute("http.response.status_code", status);
      if (tenantId !== undefined) span.setAttribute("logbook.tenant", tenantId);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }

  /**
   * Runs a store write under a span, and records under it the group commit that made it
   * durable (found by LSN among the recent ones) with its fsync.
   */
  async traceWrite<T extends number>(
    parent: Context,
    operations: number,
    write: () => Promise<T>,
    commitOf: (lsn: number) => CommitObservation | undefined,
  ): Promise<T> {
    if (this.tracer === undefined) return write();
    const span = this.tracer.startSpan("logbook.store.write", { attributes: { "logbook.operations": operations } }, parent);
    try {
      const lsn = await write();
      span.setAttribute("logbook.lsn", lsn);
      const commit = commitOf(lsn);
      if (commit !== undefined) this.recordCommit(trace.setSpan(parent, span), commit);
      return lsn;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  }

  private recordCommit(parent: Context, commit: CommitObservation): void {
    const tracer = this.tracer as Tracer;
    const endMs = wallMs(commit.seenMs);
    const group = tracer.startSpan(
      "logbook.log.group_commit",
      {
        startTime: endMs - commit.durationMs,
        attributes: {
          "logbook.commit.records": commit.records,
          "logbook.commit.first_lsn": commit.firstLsn,
          "logbook.commit.last_lsn": commit.lastLsn,
        },
      },
      parent,
    );
    if (commit.durable) {
      const fsync = tracer.startSpan("logbook.log.fsync", { startTime: endMs - commit.fsyncMs }, trace.setSpan(parent, group));
      fsync.end(endMs);
    }
    group.end(endMs);
  }
}

/** The last few group commits, so a write can find the one that covered its LSN. */
export class RecentCommits {
  private readonly commits: (CommitInfo | undefined)[];
  private readonly seenMs: Float64Array;
  private added = 0;

  constructor(private readonly capacity = 64) {
    this.commits = new Array(capacity).fill(undefined);
    this.seenMs = new Float64Array(capacity);
  }

  /** Called for every group commit: a slot in a ring, no copy. */
  add(info: CommitInfo): void {
    const slot = this.added % this.capacity;
    this.commits[slot] = info;
    this.seenMs[slot] = performance.now();
    this.added++;
  }

  find(lsn: number): CommitObservation | undefined {
    for (let i = this.added - 1; i >= 0 && i >= this.added - this.capacity; i--) {
      const slot = i % this.capacity;
      const commit = this.commits[slot] as CommitInfo;
      if (commit.firstLsn <= lsn && lsn <= commit.lastLsn) return { ...commit, seenMs: this.seenMs[slot] as number };
      if (commit.lastLsn < lsn) return undefined;
    }
    return undefined;
  }
}
