/**
 * The span export thread (worker-span-exporter.ts): rebuilds the spans it is sent as the SDK's
 * ReadableSpan and exports them with the OTLP/HTTP exporter, which reads its endpoint,
 * headers, timeout and compression from the OTEL_* variables (a worker shares process.env).
 */
import { parentPort } from "node:worker_threads";
import type { SpanContext } from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { ExportReply, ExportRequest, SpanContextData } from "./worker-span-exporter.js";

const port = parentPort;
if (port === null) throw new Error("otlp-export-thread runs as a worker thread");
const exporter = new OTLPTraceExporter();

function spanContextOf(data: SpanContextData): SpanContext {
  return {
    traceId: data.traceId,
    spanId: data.spanId,
    traceFlags: data.traceFlags,
    ...(data.isRemote === undefined ? {} : { isRemote: data.isRemote }),
    ...(data.traceState === undefined ? {} : { traceState: new TraceState(data.traceState) }),
  };
}

function reply(message: ExportReply): void {
  port?.postMessage(message);
}

port.on("message", (request: ExportRequest) => {
  if (request.type === "shutdown") {
    exporter.shutdown().then(
      () => reply({ id: request.id, code: 0, error: undefined }),
      (error: Error) => reply({ id: request.id, code: 1, error: error.message }),
    );
    return;
  }
  // One Resource object per resource in the batch: the exporter groups spans by identity.
  const resources: Resource[] = request.resources.map((resource) =>
    resourceFromAttributes(resource.attributes, resource.schemaUrl === undefined ? {} : { schemaUrl: resource.schemaUrl }),
  );
  const spans = request.spans.map((span): ReadableSpan => {
    const context = spanContextOf(span.spanContext);
    return {
      ...span,
      spanContext: () => context,
      parentSpanContext: span.parentSpanContext === undefined ? undefined : spanContextOf(span.parentSpanContext),
      links: span.links.map((link) => ({
        context: spanContextOf(link.context),
        ...(link.attributes === undefined ? {} : { attributes: link.attributes }),
        ...(link.droppedAttributesCount === undefined ? {} : { droppedAttributesCount: link.droppedAttributesCount }),
      })),
      ended: true,
      resource: resources[span.resource] as Resource,
    };
  });
  exporter.export(spans, (result) => reply({ id: request.id, code: result.code, error: result.error?.message }));
});
