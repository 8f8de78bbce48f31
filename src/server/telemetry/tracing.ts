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
import type { HeadSampling } from "./head-sampling.js";
import type { CommitObservation } from "./recent-commits.js";
import {
  commandAttributes,
  commandSpanName,
  type RequestNote,
  requestAttributes,
  requestSpanName,
  type SpanSpec,
  spanSpecsOf,
} from "./span-notes.js";

const TRACER_NAME = "logbook";

/** The W3C `traceparent` of a span, as the propagator would write it. */
function traceparentOf(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`;
}

/** Wall-clock milliseconds for a performance.now() reading (span times are wall clock). */
function wallMs(performanceMs: number): number {
  return performance.timeOrigin + performanceMs;
}

/**
 * A request that records, kept as plain numbers while it runs: the ids it answers with, its
 * times, its write and the group commit that covered it. Its spans (or, under a provider
 * someone else registered, the spans below its live request span) are made from these.
 */
export class TracedRequest {
  endMs = 0;
  status = 0;
  tenantId: string | undefined = undefined;
  write: NotedWrite | undefined = undefined;
  /** A Redis command's answer when it was an error: its prefix (`ERR`, `WRONGTYPE`, …). */
  error: string | undefined = undefined;

  constructor(
    readonly traceId: string,
    readonly spanId: string,
    /** The caller's context when it sent a `traceparent`, else ROOT_CONTEXT. */
    readonly parent: Context,
    readonly method: string,
    readonly route: string,
    readonly startMs: number,
    /** The request span, live, under a provider someone else registered; undefined under our SDK. */
    readonly span: Span | undefined,
    /** Set for a Redis command (its name, lower case): `method` and `route` are then empty. */
    readonly command?: string,
  ) {}
}

/** A traced request's store write: its times, and the group commit that made it durable. */
class NotedWrite {
  endMs = 0;
  lsn: number | undefined = undefined;
  error: string | undefined = undefined;
  commit: CommitObservation | undefined = undefined;

  constructor(
    readonly operations: number,
    readonly startMs: number,
  ) {}
}

/** A request as traced: what it records (if it does), and the ids it answers and logs with. */
export interface RequestTrace {
  /** Undefined when the request does not record. */
  traced: TracedRequest | undefined;
  /** For the log line; undefined only for an unsampled new trace when no log line wants it. */
  traceId: string | undefined;
  /**
   * The answer's `traceparent`: when the request is sampled (there is a trace to look up) or
   * the caller sent one (its trace goes on through us); otherwise undefined.
   */
  traceparent: string | undefined;
}

/** An unsampled new trace whose id nobody reads: nothing to make, nothing to answer. */
const UNSAMPLED_ROOT: RequestTrace = Object.freeze({ traced: undefined, traceId: undefined, traceparent: undefined });

/** Traced requests wait at most this long for their spans (the SDK's batch processor then adds its own delay). */
const DEFERRED_FLUSH_DELAY_MS = 500;
/** ...or until this many wait: one postMessage a batch, and a bound on what one structured clone copies. */
const DEFERRED_FLUSH_REQUESTS = 128;

/**
 * Tracing of requests. Under our SDK (tracing-sdk.ts, which brings head sampling) a sampled request
 * makes no span: it notes its ids and times in a TracedRequest, and once answered its note
 * goes, in a batch, to the span export thread, which makes the spans with the same ids and
 * times (span-notes.ts, span-export-thread.ts). So the event loop never runs the SDK's span
 * code, which a sampled request would otherwise run cold among many unsampled ones
 * (bench/server.ts --modes tracing prices the request path with tracing on).
 * Under a provider someone else registered (an embedder's, a test's) the request span is
 * live, since only its sampler can decide and it decides in startSpan; the spans below it are
 * made from the notes when the request ends.
 */
export class Tracing {
  private readonly tracer: Tracer | undefined;
  private readonly headSampling: HeadSampling | undefined;
  private readonly exportNotes: ((notes: RequestNote[]) => void) | undefined;
  private deferred: TracedRequest[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  /**
   * `ours` comes with tracing we started (tracing-sdk.ts): its head sampling, and where recorded
   * requests' notes go. Without it (a provider someone else registered) every request's span
   * is left to that provider to sample and export.
   * `traceIdsLogged`: request log lines are written, and carry every request's trace id.
   */
  constructor(
    readonly enabled: boolean,
    ours?: OwnTracing,
    private readonly traceIdsLogged = true,
  ) {
    this.tracer = enabled ? trace.getTracer(TRACER_NAME) : undefined;
    this.headSampling = ours?.headSampling;
    this.exportNotes = ours?.exportNotes;
  }

  /**
   * The request's trace, child of the caller's `traceparent` when it sent one, and the
   * `traceparent` to answer with. Under head sampling most requests do not record: an
   * unsampled new trace costs no more than a look at random bytes (plus its id in hex when the
   * log line wants it): no span id, no answer. A request that records gets a TracedRequest.
   */
  startRequest(method: string, route: string, headers: Record<string, unknown>): RequestTrace | undefined {
    if (this.tracer === undefined) return undefined;
    const sampling = this.headSampling;
    // With our SDK the only propagator is W3C's (tracing-sdk.ts): no traceparent header, no parent.
    const root = sampling !== undefined && headers.traceparent === undefined;
    // A new trace under a ratio sampler is decided here from the id's bytes; others by decide().
    const decidedFromIds = root && sampling.decidesRootsFromIds;
    if (decidedFromIds && !sampling.sampleRoot()) {
      if (!this.traceIdsLogged) return UNSAMPLED_ROOT;
      return { traced: undefined, traceId: sampling.ids.reservedTraceId(), traceparent: undefined };
    }
    const parent = root ? ROOT_CONTEXT : propagation.extract(ROOT_CONTEXT, headers);
    const name = requestSpanName(method, route);
    const attributes = requestAttributes(method, route);
    if (sampling !== undefined) {
      if (!decidedFromIds) {
        const unsampled = sampling.decide(parent, name, SpanKind.SERVER, attributes);
        if (unsampled !== undefined) {
          const { traceId, spanId } = unsampled;
          const traceparent = spanId === undefined ? undefined : traceparentOf(traceId, spanId, false);
          return { traced: undefined, traceId, traceparent };
        }
      }
      // Recorded: the trace id decided on (a root's, set aside by the sampling) or the parent's.
      const traceId = root ? (sampling.ids.presetTraceId as string) : (trace.getSpanContext(parent)?.traceId as string);
      sampling.ids.presetTraceId = undefined;
      const spanId = sampling.ids.generateSpanId();
      const traced = new TracedRequest(traceId, spanId, parent, method, route, performance.now(), undefined);
      return { traced, traceId, traceparent: traceparentOf(traceId, spanId, true) };
    }
    const startMs = performance.now();
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, startTime: wallMs(startMs) }, parent);
    const { traceId, spanId, traceFlags } = span.spanContext();
    const sampled = (traceFlags & TraceFlags.SAMPLED) !== 0;
    const answered = sampled || headers.traceparent !== undefined;
    return {
      // A span that does not record needs no end: nothing below it is made either.
      traced: span.isRecording() ? new TracedRequest(traceId, spanId, parent, method, route, startMs, span) : undefined,
      traceId,
      traceparent: answered ? traceparentOf(traceId, spanId, sampled) : undefined,
    };
  }

  /**
   * A Redis command's trace when it records, else undefined. Sampled as a request without a
   * `traceparent` is (the protocol carries none): a new trace each, under the same sampler.
   */
  startCommand(command: string): TracedRequest | undefined {
    if (this.tracer === undefined) return undefined;
    const name = commandSpanName(command);
    const attributes = commandAttributes(command);
    const sampling = this.headSampling;
    if (sampling !== undefined) {
      if (
        sampling.decidesRootsFromIds
          ? !sampling.sampleRoot()
          : sampling.decide(ROOT_CONTEXT, name, SpanKind.SERVER, attributes) !== undefined
      ) {
        return undefined;
      }
      const traceId = sampling.ids.presetTraceId as string;
      sampling.ids.presetTraceId = undefined;
      return new TracedRequest(
        traceId,
        sampling.ids.generateSpanId(),
        ROOT_CONTEXT,
        "",
        "",
        performance.now(),
        undefined,
        command,
      );
    }
    const startMs = performance.now();
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes, startTime: wallMs(startMs) }, ROOT_CONTEXT);
    if (!span.isRecording()) return undefined;
    const { traceId, spanId } = span.spanContext();
    return new TracedRequest(traceId, spanId, ROOT_CONTEXT, "", "", startMs, span, command);
  }

  /** Ends a traced Redis command; `error`: its error reply's prefix, if it answered one. */
  endCommand(traced: TracedRequest, error: string | undefined, tenantId: string | undefined): void {
    traced.error = error;
    this.endRequest(traced, 0, tenantId);
  }

  /** Ends a traced request: its spans are made now (a live request span) or in the next batch. */
  endRequest(traced: TracedRequest, status: number, tenantId: string | undefined): void {
    traced.endMs = performance.now();
    traced.status = status;
    traced.tenantId = tenantId;
    if (traced.span !== undefined) {
      this.finish(traced, traced.span);
      return;
    }
    this.deferred.push(traced);
    if (this.deferred.length >= DEFERRED_FLUSH_REQUESTS) this.flush();
    else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => this.flush(), DEFERRED_FLUSH_DELAY_MS).unref();
    }
  }

  /** Runs a traced request's store write and notes its times and the group commit that covered it. */
  async traceWrite<T extends number>(
    traced: TracedRequest,
    operations: number,
    write: () => Promise<T>,
    commitOf: (lsn: number) => CommitObservation | undefined,
  ): Promise<T> {
    const noted = new NotedWrite(operations, performance.now());
    traced.write = noted;
    try {
      const lsn = await write();
      noted.lsn = lsn;
      noted.commit = commitOf(lsn);
      return lsn;
    } catch (error) {
      noted.error = (error as Error).message;
      throw error;
    } finally {
      noted.endMs = performance.now();
    }
  }

  /** Sends the notes of every answered request waiting for them (on a timer, and before the export stops). */
  flush(): void {
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const waiting = this.deferred;
    this.deferred = [];
    if (waiting.length > 0) this.exportNotes?.(waiting.map(noteOf));
  }

  /** A live request span's answer, the spans below it (write, group commit, fsync), and its end. */
  private finish(traced: TracedRequest, span: Span): void {
    const tracer = this.tracer as Tracer;
    const [request, ...below] = spanSpecsOf(noteOf(traced)) as [SpanSpec, ...SpanSpec[]];
    span.setAttributes(request.attributes);
    if (request.status.code !== SpanStatusCode.UNSET) span.setStatus(request.status);
    const contexts = [trace.setSpan(traced.parent, span)];
    for (const spec of below) {
      const child = tracer.startSpan(
        spec.name,
        { kind: spec.kind, startTime: spec.startMs, attributes: spec.attributes },
        contexts[spec.parent],
      );
      if (spec.status.code !== SpanStatusCode.UNSET) child.setStatus(spec.status);
      contexts.push(trace.setSpan(contexts[spec.parent] as Context, child));
      child.end(spec.endMs);
    }
    span.end(request.endMs);
  }
}

/** What our own tracing (tracing-sdk.ts) gives Tracing. */
export interface OwnTracing {
  headSampling: HeadSampling;
  /** Where recorded requests go once answered: the span export thread (span-export.ts). */
  exportNotes: (notes: RequestNote[]) => void;
}

/** A recorded request as plain data, its times on the wall clock (span-notes.ts). */
export function noteOf(traced: TracedRequest): RequestNote {
  const parent = traced.parent === ROOT_CONTEXT ? undefined : trace.getSpanContext(traced.parent);
  const write = traced.write;
  const commit = write?.commit;
  const commitEndMs = commit === undefined ? 0 : wallMs(commit.seenMs);
  return {
    traceId: traced.traceId,
    spanId: traced.spanId,
    parent:
      parent === undefined
        ? undefined
        : {
            traceId: parent.traceId,
            spanId: parent.spanId,
            traceFlags: parent.traceFlags,
            isRemote: parent.isRemote,
            traceState: parent.traceState?.serialize(),
          },
    method: traced.method,
    route: traced.route,
    ...(traced.command === undefined ? {} : { command: traced.command, error: traced.error }),
    startMs: wallMs(traced.startMs),
    endMs: wallMs(traced.endMs),
    status: traced.status,
    tenantId: traced.tenantId,
    write:
      write === undefined
        ? undefined
        : {
            operations: write.operations,
            startMs: wallMs(write.startMs),
            endMs: wallMs(write.endMs),
            lsn: write.lsn,
            error: write.error,
            commit:
              commit === undefined
                ? undefined
                : {
                    records: commit.records,
                    firstLsn: commit.firstLsn,
                    lastLsn: commit.lastLsn,
                    startMs: commitEndMs - commit.durationMs,
                    endMs: commitEndMs,
                    fsyncStartMs: commit.durable ? commitEndMs - commit.fsyncMs : undefined,
                  },
          },
  };
}
