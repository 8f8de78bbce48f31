/**
 * One description of a request's span tree, two ways of making it: a live request span under
 * someone else's provider is completed on the event loop by the SDK, a request recorded under
 * our own tracing is noted and its spans made in the export thread. Both must give the same
 * spans: names, kinds, parents, attributes, statuses, times and trace state.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { readableSpansOf } from "../../../src/server/telemetry/span-export-thread.js";
import { noteOf, Tracing } from "../../../src/server/telemetry/tracing.js";

/** A span as comparable data; its parent by name (ids differ between the two ways). */
function shape(spans: ReadableSpan[]) {
  const nameOf = new Map(spans.map((span) => [span.spanContext().spanId, span.name]));
  const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
  return spans
    .map((span) => ({
      name: span.name,
      kind: span.kind,
      parent:
        span.parentSpanContext === undefined ? "-" : (nameOf.get(span.parentSpanContext.spanId) ?? span.parentSpanContext.spanId),
      traceId: span.spanContext().traceId,
      traceState: span.spanContext().traceState?.serialize(),
      attributes: span.attributes,
      status: span.status,
      // Microseconds: the SDK and the thread round a wall-clock millisecond to nanoseconds alike.
      startUs: Math.round(ms(span.startTime) * 1000),
      endUs: Math.round(ms(span.endTime) * 1000),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

test("a live request span and a noted request make the same spans", async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  try {
    const tracing = new Tracing(true, undefined, true);
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const headers = { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01`, tracestate: "vendor=abc" };
    const cases = [
      {
        status: 200,
        tenant: "acme",
        commit: { firstLsn: 7, lastLsn: 9, records: 3, durable: true, durationMs: 0.4, fsyncMs: 0.3 },
      },
      {
        status: 200,
        tenant: undefined,
        commit: { firstLsn: 10, lastLsn: 10, records: 1, durable: false, durationMs: 0.1, fsyncMs: 0 },
      },
      { status: 503, tenant: "acme", failure: "disk full" },
      { status: 404, tenant: undefined, read: true },
    ];
    for (const [index, example] of cases.entries()) {
      exporter.reset();
      const started = tracing.startRequest("PUT", "/v1/kv/*", index % 2 === 0 ? headers : {});
      const traced = started?.traced;
      assert.ok(traced !== undefined && traced.span !== undefined, "a live span under someone else's provider");
      if (example.commit !== undefined) {
        await tracing.traceWrite(
          traced,
          2,
          async () => example.commit.lastLsn,
          () => ({ ...example.commit, seenMs: performance.now() }),
        );
      } else if (example.failure !== undefined) {
        await assert.rejects(
          tracing.traceWrite(
            traced,
            1,
            async () => Promise.reject(new Error(example.failure)),
            () => undefined,
          ),
        );
      }
      tracing.endRequest(traced, example.status, example.tenant);
      const live = exporter.getFinishedSpans();
      const noted = readableSpansOf(structuredClone(noteOf(traced)), resourceFromAttributes({}));
      assert.deepEqual(shape(noted), shape(live), `case ${index}`);
      assert.equal(noted[0]?.spanContext().spanId, traced.spanId, "the request span keeps the id it answered with");
      const expected = example.commit === undefined ? (example.failure === undefined ? 1 : 2) : example.commit.durable ? 4 : 3;
      assert.equal(live.length, expected, `case ${index}: ${live.map((span) => span.name).join()}`);
    }
  } finally {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
  }
});
