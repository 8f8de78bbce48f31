/**
 * Head sampling before a span: the decision taken up front is the one the SDK then takes for
 * the span it makes, on the same trace id; ids are well-formed W3C ids and do not repeat.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import fc from "fast-check";
import { HeadSampling, PooledIds } from "../../../src/server/telemetry/head-sampling.js";
import { readableSpansOf } from "../../../src/server/telemetry/span-export-thread.js";
import type { RequestNote } from "../../../src/server/telemetry/span-notes.js";
import { Tracing } from "../../../src/server/telemetry/tracing.js";

/** Our own tracing's parts for Tracing, its notes kept nowhere (these tests look at decisions). */
function ours(headSampling: HeadSampling) {
  return { headSampling, exportNotes: () => undefined };
}

test("pooled ids: W3C-shaped, unique over many pools, and a preset trace id is handed out exactly once", () => {
  const ids = new PooledIds();
  const traceIds = new Set<string>();
  const spanIds = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const traceId = ids.generateTraceId();
    const spanId = ids.generateSpanId();
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.match(spanId, /^[0-9a-f]{16}$/);
    assert.ok(trace.isSpanContextValid({ traceId, spanId, traceFlags: 0 }));
    traceIds.add(traceId);
    spanIds.add(spanId);
  }
  assert.equal(traceIds.size, 20_000);
  assert.equal(spanIds.size, 20_000);
  ids.presetTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  assert.equal(ids.generateTraceId(), "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.notEqual(ids.generateTraceId(), "4bf92f3577b34da6a3ce929d0e0e4736");
});

/** A caller's context as the W3C propagator would extract it. */
function remoteParent(traceId: string, sampled: boolean) {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: "00f067aa0ba902b7",
    traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

function decideAndStart(sampler: Sampler, rounds: number) {
  const sampling = new HeadSampling(sampler);
  const provider = new BasicTracerProvider({ sampler: sampling.sampler, idGenerator: sampling.ids });
  const tracer = provider.getTracer("head-sampling-test");
  let recorded = 0;
  for (let i = 0; i < rounds; i++) {
    const parent = i % 3 === 0 ? ROOT_CONTEXT : remoteParent(new PooledIds().generateTraceId(), i % 3 === 1 /* sampled parent */);
    const attributes = { "http.route": "/v1/kv/*" };
    const unsampled = sampling.decide(parent, "PUT /v1/kv/*", SpanKind.SERVER, attributes);
    const parentTraceId = trace.getSpanContext(parent)?.traceId;
    if (unsampled !== undefined) {
      if (parentTraceId !== undefined) assert.equal(unsampled.traceId, parentTraceId, "an unsampled child stays in its trace");
      assert.equal(sampling.ids.presetTraceId, undefined, "nothing left for the SDK when no span is made");
      continue;
    }
    // Decided to record: the SDK's span records too, on the trace id the decision was made on.
    const decidedTraceId = parentTraceId ?? sampling.ids.presetTraceId;
    const span = tracer.startSpan("PUT /v1/kv/*", { kind: SpanKind.SERVER, attributes }, parent);
    assert.ok(span.isRecording(), "the SDK agrees with the decision taken before the span");
    assert.equal(span.spanContext().traceId, decidedTraceId);
    assert.equal(sampling.ids.presetTraceId, undefined, "a preset trace id is taken once");
    span.end();
    recorded++;
  }
  return recorded;
}

test("a decision to record is the SDK's decision too: ratio, parent-based, always on and off", () => {
  // With the ratio the SDK re-decides on the preset trace id: any disagreement is caught above.
  const half = decideAndStart(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.5) }), 600);
  // Sampled parents (200) always record, unsampled never, roots about half of 200.
  assert.ok(half > 240 && half < 360, `recorded ${half} of 600`);
  // A plain ratio ignores the parent's flag: about half of everything.
  const plain = decideAndStart(new TraceIdRatioBasedSampler(0.5), 600);
  assert.ok(plain > 220 && plain < 380, `recorded ${plain} of 600`);
  assert.equal(decideAndStart(new AlwaysOnSampler(), 90), 90);
  assert.equal(decideAndStart(new AlwaysOffSampler(), 90), 0);
  assert.equal(decideAndStart(new ParentBasedSampler({ root: new AlwaysOffSampler() }), 90), 30, "only the sampled parents");
});

test("a new trace decided from its id's bytes is exactly what the SDK's ratio sampler decides, at any ratio", () => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean(), (ratio, parentBased) => {
      const sampler = parentBased
        ? new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) })
        : new TraceIdRatioBasedSampler(ratio);
      const sampling = new HeadSampling(sampler);
      assert.ok(sampling.decidesRootsFromIds, `${sampler} is decided from ids`);
      for (let i = 0; i < 500; i++) {
        const unsampled = sampling.decide(ROOT_CONTEXT, "GET /", SpanKind.SERVER, {});
        const traceId = unsampled?.traceId ?? (sampling.ids.presetTraceId as string);
        sampling.ids.presetTraceId = undefined;
        const { decision } = sampler.shouldSample(ROOT_CONTEXT, traceId, "GET /", SpanKind.SERVER, {}, []);
        assert.equal(unsampled === undefined, decision === SamplingDecision.RECORD_AND_SAMPLED, `ratio ${ratio}, ${traceId}`);
      }
    }),
    { numRuns: 60 },
  );
  // Other samplers are asked every time.
  assert.equal(new HeadSampling(new AlwaysOnSampler()).decidesRootsFromIds, false);
  assert.equal(new HeadSampling(new ParentBasedSampler({ root: new AlwaysOffSampler() })).decidesRootsFromIds, false);
});

test("what a request answers and logs: traceparent when sampled or sent, trace id in the log line when it is written", () => {
  const provider = new BasicTracerProvider({});
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  try {
    const parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const sentUnsampled = { traceparent: `00-${parentTrace}-00f067aa0ba902b7-00` };
    const sentSampled = { traceparent: `00-${parentTrace}-00f067aa0ba902b7-01` };
    for (const logged of [true, false]) {
      const never = new Tracing(
        true,
        ours(new HeadSampling(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0) }))),
        logged,
      );
      const root = never.startRequest("PUT", "/v1/kv/*", {});
      assert.ok(root !== undefined && root.traced === undefined, "nothing recorded");
      assert.equal(root.traceparent, undefined, "an unsampled new trace: nothing to look up, no answer");
      if (logged) assert.match(root.traceId ?? "", /^[0-9a-f]{32}$/);
      else assert.equal(root.traceId, undefined, "no log line: the id is not even made");
      const child = never.startRequest("PUT", "/v1/kv/*", sentUnsampled);
      assert.equal(child?.traceId, parentTrace);
      assert.match(child?.traceparent ?? "", new RegExp(`^00-${parentTrace}-[0-9a-f]{16}-00$`), "the caller's trace goes on");
      const followed = never.startRequest("PUT", "/v1/kv/*", sentSampled);
      assert.ok(followed?.traced !== undefined && followed.traced.span === undefined, "a sampled parent is followed at ratio 0");
      assert.equal(followed.traceparent, `00-${parentTrace}-${followed.traced.spanId}-01`);

      const always = new Tracing(true, ours(new HeadSampling(new TraceIdRatioBasedSampler(1))), logged);
      const sampled = always.startRequest("GET", "/v1/kv/*", {});
      assert.ok(
        sampled?.traced !== undefined && sampled.traced.span === undefined,
        "recorded under our sampling: noted, no live span",
      );
      assert.equal(sampled.traceId, sampled.traced.traceId);
      assert.equal(sampled.traceparent, `00-${sampled.traceId}-${sampled.traced.spanId}-01`);
    }
  } finally {
    trace.disable();
    propagation.disable();
  }
});

test("a recorded request's spans: noted, sent at flush, made with the ids it answered with, its times, its write and commit", async () => {
  const sampling = new HeadSampling(new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(1) }));
  const sent: RequestNote[] = [];
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  try {
    const tracing = new Tracing(true, { headSampling: sampling, exportNotes: (notes) => sent.push(...notes) }, true);
    const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const commit = { firstLsn: 7, lastLsn: 9, records: 3, durable: true, durationMs: 0.4, fsyncMs: 0.3 };
    const started = [
      tracing.startRequest("PUT", "/v1/kv/*", {}),
      tracing.startRequest("PUT", "/v1/kv/*", { traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` }),
      tracing.startRequest("GET", "/v1/kv/*", {}),
    ];
    const [root, child, read] = started.map((request) => request?.traced);
    assert.ok(root !== undefined && child !== undefined && read !== undefined);
    const lsn = await tracing.traceWrite(
      root,
      3,
      async () => 8,
      () => ({ ...commit, seenMs: performance.now() }),
    );
    assert.equal(lsn, 8);
    await assert.rejects(
      tracing.traceWrite(
        child,
        1,
        async () => Promise.reject(new Error("disk full")),
        () => undefined,
      ),
      /disk full/,
    );
    tracing.endRequest(root, 200, "acme");
    tracing.endRequest(child, 503, undefined);
    assert.equal(sent.length, 0, "nothing is sent while requests run");
    tracing.endRequest(read, 200, "acme");
    tracing.flush();
    assert.equal(sent.length, 3);
    // Through structured clone, as the notes cross to the export thread.
    const resource = resourceFromAttributes({ "service.name": "logbook-test" });
    const spans = structuredClone(sent).flatMap((note) => readableSpansOf(note, resource));
    const byName = (traceId: string, name: string) =>
      spans.find((span) => span.spanContext().traceId === traceId && span.name === name);
    const request = byName(root.traceId, "PUT /v1/kv/*");
    const write = byName(root.traceId, "logbook.store.write");
    const group = byName(root.traceId, "logbook.log.group_commit");
    const fsync = byName(root.traceId, "logbook.log.fsync");
    assert.ok(request && write && group && fsync, spans.map((span) => span.name).join());
    assert.equal(request.spanContext().spanId, root.spanId, "the span has the id the request answered with");
    assert.equal(request.parentSpanContext, undefined);
    assert.equal(write.parentSpanContext?.spanId, root.spanId);
    assert.equal(group.parentSpanContext?.spanId, write.spanContext().spanId);
    assert.equal(fsync.parentSpanContext?.spanId, group.spanContext().spanId);
    assert.equal(request.attributes["http.response.status_code"], 200);
    assert.equal(request.attributes["logbook.tenant"], "acme");
    assert.equal(write.attributes["logbook.lsn"], 8);
    assert.equal(group.attributes["logbook.commit.records"], 3);
    const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
    assert.ok(
      ms(request.startTime) <= ms(write.startTime) && ms(write.endTime) <= ms(request.endTime),
      "the write is within the request",
    );
    assert.ok(ms(request.startTime) <= ms(request.endTime));

    const failed = byName(callerTrace, "PUT /v1/kv/*");
    assert.equal(failed?.spanContext().spanId, child.spanId);
    assert.equal(failed?.parentSpanContext?.spanId, "00f067aa0ba902b7", "the caller's child");
    assert.equal(failed?.status.code, SpanStatusCode.ERROR);
    assert.equal(byName(callerTrace, "logbook.store.write")?.status.message, "disk full");
    assert.equal(byName(callerTrace, "logbook.log.group_commit"), undefined, "no commit for a failed write");
    assert.equal(spans.filter((span) => span.spanContext().traceId === read.traceId).length, 1, "a read: its request span");
    assert.equal(spans.length, 7);
    assert.ok(
      spans.every((span) => span.resource === resource && (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0),
      "sampled, under the thread's resource",
    );
    assert.equal(new Set(spans.map((span) => span.spanContext().spanId)).size, 7, "every span an id of its own");
    assert.equal(sampling.ids.presetTraceId, undefined, "no preset trace id is left for another request");
  } finally {
    trace.disable();
    propagation.disable();
  }
});
