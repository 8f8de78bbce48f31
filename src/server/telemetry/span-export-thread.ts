/**
 * The span export thread (span-export.ts starts it): makes the SDK's spans from the request
 * notes the event loop posts (span-notes.ts) and hands them to the span processors that
 * OTEL_TRACES_EXPORTER names: `otlp`, the SDK's batch processor with the OTLP/HTTP exporter
 * (endpoint, headers, timeout, compression and batch sizes from the OTEL_* variables, which a
 * worker shares); `console`, the SDK's console exporter. The resource is made here too, as the
 * SDK makes it (its defaults, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES).
 *
 * Why a thread: the exporter's HTTP client runs through the same Node http, net and stream
 * code as the server's sockets. On the event loop, each export would feed that shared code a
 * second kind of object, and V8 would throw away its optimized request-path code each time. A
 * worker has its own heap and its own compiled code.
 */
import { parentPort } from "node:worker_threads";
import { type SpanContext, TraceFlags } from "@opentelemetry/api";
import { hrTimeDuration, millisToHrTime, TraceState } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, detectResources, envDetector, type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { PooledIds } from "./head-sampling.js";
import type { SpanExportReply, SpanExportRequest } from "./span-export.js";
import { type ParentNote, type RequestNote, spanSpecsOf } from "./span-notes.js";

const SCOPE = Object.freeze({ name: "logbook", version: undefined, schemaUrl: undefined });

function parentContextOf(parent: ParentNote): SpanContext {
  return {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.traceFlags,
    ...(parent.isRemote === undefined ? {} : { isRemote: parent.isRemote }),
    ...(parent.traceState === undefined ? {} : { traceState: new TraceState(parent.traceState) }),
  };
}

/** Span ids for the spans below a request, from a pool of random bytes as the event loop's ids are. */
const ids = new PooledIds();

/**
 * A request's spans as the SDK would have finished them: sampled, in the caller's trace (its
 * trace state carried on), the request span with the id it answered with, the others with ids
 * of their own.
 */
export function readableSpansOf(note: RequestNote, resource: Resource): ReadableSpan[] {
  const parent = note.parent === undefined ? undefined : parentContextOf(note.parent);
  const contexts: SpanContext[] = [];
  return spanSpecsOf(note).map((spec, index): ReadableSpan => {
    const context: SpanContext = {
      traceId: note.traceId,
      spanId: index === 0 ? note.spanId : ids.generateSpanId(),
      traceFlags: TraceFlags.SAMPLED,
      ...(parent?.traceState === undefined ? {} : { traceState: parent.traceState }),
    };
    contexts.push(context);
    const startTime = millisToHrTime(spec.startMs);
    const endTime = millisToHrTime(Math.max(spec.startMs, spec.endMs));
    return {
      name: spec.name,
      kind: spec.kind,
      spanContext: () => context,
      parentSpanContext: spec.parent === -1 ? parent : contexts[spec.parent],
      startTime,
      endTime,
      duration: hrTimeDuration(startTime, endTime),
      status: spec.status,
      attributes: spec.attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  });
}

/** The processors OTEL_TRACES_EXPORTER names (default `otlp`). */
function processorsFromEnv(): SpanProcessor[] {
  const names = (process.env.OTEL_TRACES_EXPORTER ?? "otlp").split(",").map((name) => name.trim());
  return names.flatMap((name): SpanProcessor[] => {
    if (name === "otlp") return [new BatchSpanProcessor(new OTLPTraceExporter())];
    if (name === "console") return [new SimpleSpanProcessor(new ConsoleSpanExporter())];
    return [];
  });
}

function serve(port: NonNullable<typeof parentPort>): void {
  const processors = processorsFromEnv();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": process.env.OTEL_SERVICE_NAME ?? "logbook" }))
    .merge(detectResources({ detectors: [envDetector] }));
  const reply = (message: SpanExportReply) => port.postMessage(message);
  const settle = (id: number, done: Promise<unknown>) =>
    done.then(
      () => reply({ id, error: undefined }),
      (error: Error) => reply({ id, error: error.message }),
    );
  port.on("message", (request: SpanExportRequest) => {
    if (request.type === "notes") {
      for (const note of request.notes) {
        for (const span of readableSpansOf(note, resource)) for (const processor of processors) processor.onEnd(span);
      }
    } else if (request.type === "flush") {
      settle(request.id, Promise.all(processors.map((processor) => processor.forceFlush())));
    } else {
      settle(request.id, Promise.all(processors.map((processor) => processor.shutdown())));
    }
  });
}

// Imported outside a worker (tests of readableSpansOf), it only defines.
if (parentPort !== null) serve(parentPort);
