/**
 * The span export thread: spans handed to WorkerSpanExporter reach an OTLP/HTTP collector as the
 * SDK made them (ids, parents, trace state, attributes, events, resource); an unreachable
 * collector is a failed export, answered, not a hang; after shutdown an export fails at once.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace } from "@opentelemetry/api";
import { ExportResultCode, TraceState } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { WorkerSpanExporter } from "../../src/server/worker-span-exporter.js";
import { type Collector, startCollector } from "../support/otlp-collector.js";

let collector: Collector;
const savedEndpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;

before(async () => {
  collector = await startCollector();
});
after(async () => {
  await collector.close();
  if (savedEndpoint === undefined) delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  else process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = savedEndpoint;
});

/** A parent and a child span, finished, as the SDK hands them to an exporter. */
function makeSpans(): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "logbook-test" }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer("logbook");
  const caller = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "00f067aa0ba902b7",
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState("vendor=abc"),
  });
  const parent = tracer.startSpan("PUT /v1/kv/*", { kind: SpanKind.SERVER, attributes: { "http.route": "/v1/kv/*" } }, caller);
  const child = tracer.startSpan("logbook.store.write", { attributes: { "logbook.lsn": 12 } }, trace.setSpan(caller, parent));
  child.addEvent("retried");
  child.end();
  parent.end();
  return memory.getFinishedSpans();
}

function exportOnce(exporter: WorkerSpanExporter, spans: ReadableSpan[]) {
  return new Promise<{ code: number; error?: Error }>((resolve) => exporter.export(spans, resolve));
}

test("spans cross to the thread and reach the collector as the SDK made them", async () => {
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${collector.url}/v1/traces`;
  const exporter = new WorkerSpanExporter();
  try {
    const spans = makeSpans();
    const result = await exportOnce(exporter, spans);
    assert.equal(result.code, ExportResultCode.SUCCESS);
    await exporter.forceFlush();
    const got = collector.spans;
    assert.equal(got.length, 2);
    const parent = got.find((span) => span.name === "PUT /v1/kv/*");
    const child = got.find((span) => span.name === "logbook.store.write");
    assert.ok(parent && child);
    const [sentChild, sentParent] = spans as [ReadableSpan, ReadableSpan];
    assert.equal(parent.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(parent.spanId, sentParent.spanContext().spanId);
    assert.equal(parent.parentSpanId, "00f067aa0ba902b7", "the caller's span, remote");
    assert.equal(parent.traceState, "vendor=abc");
    assert.equal(parent.kind, SpanKind.SERVER + 1, "OTLP numbers kinds from 1");
    assert.equal(child.spanId, sentChild.spanContext().spanId);
    assert.equal(child.parentSpanId, parent.spanId);
    assert.deepEqual(child.attributes.find((attribute) => attribute.key === "logbook.lsn")?.value, { intValue: 12 });
    assert.deepEqual(
      child.events.map((event) => event.name),
      ["retried"],
    );
    const service = collector.resources[0]?.attributes.find((attribute) => attribute.key === "service.name");
    assert.equal(service?.value.stringValue, "logbook-test");
  } finally {
    await exporter.shutdown();
  }
});

test("an unreachable collector is a failed export, answered; after shutdown an export fails at once", async () => {
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}/v1/traces`;
  // The exporter retries a refused connection until its timeout: keep that short.
  process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = "1000";
  const exporter = new WorkerSpanExporter();
  try {
    const result = await exportOnce(exporter, makeSpans());
    assert.equal(result.code, ExportResultCode.FAILED);
    assert.ok(result.error instanceof Error);
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT;
    await exporter.shutdown();
  }
  const late = await exportOnce(exporter, makeSpans());
  assert.equal(late.code, ExportResultCode.FAILED, "the thread is gone: failed, not waited for");
});
