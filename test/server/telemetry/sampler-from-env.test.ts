/**
 * The sampler OTEL_TRACES_SAMPLER / _ARG name is the one the SDK's own tracer provider builds
 * from the same variables: on the same trace ids and parents, both decide alike, for every
 * name the specification lists, the default, and the fallbacks for values that are not taken.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Context, ROOT_CONTEXT, SpanKind, TraceFlags, trace } from "@opentelemetry/api";
import { BasicTracerProvider, SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { PooledIds } from "../../../src/server/telemetry/head-sampling.js";
import { samplerFromEnv } from "../../../src/server/telemetry/sampler-from-env.js";

const SETTINGS: { sampler?: string; arg?: string; sampled: [number, number] }[] = [
  // [least, most] of the 300 roots and sampled or unsampled parents that record.
  { sampled: [200, 200] },
  { sampler: "always_on", sampled: [300, 300] },
  { sampler: "always_off", sampled: [0, 0] },
  { sampler: "parentbased_always_on", sampled: [200, 200] },
  { sampler: "parentbased_always_off", sampled: [100, 100] },
  { sampler: "traceidratio", arg: "0.25", sampled: [40, 120] },
  { sampler: "parentbased_traceidratio", arg: "0.25", sampled: [110, 150] },
  { sampler: "traceidratio", sampled: [300, 300] },
  { sampler: "traceidratio", arg: "1.5", sampled: [300, 300] },
  { sampler: "parentbased_traceidratio", arg: "-1", sampled: [200, 200] },
  { sampler: "no_such_sampler", sampled: [200, 200] },
];

function withEnv<T>(sampler: string | undefined, arg: string | undefined, run: () => T): T {
  const saved = [process.env.OTEL_TRACES_SAMPLER, process.env.OTEL_TRACES_SAMPLER_ARG];
  const set = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  set("OTEL_TRACES_SAMPLER", sampler);
  set("OTEL_TRACES_SAMPLER_ARG", arg);
  try {
    return run();
  } finally {
    set("OTEL_TRACES_SAMPLER", saved[0]);
    set("OTEL_TRACES_SAMPLER_ARG", saved[1]);
  }
}

function parentOf(round: number, ids: PooledIds): Context {
  if (round % 3 === 0) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: round % 3 === 1 ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
}

test("the sampler from the environment decides as the SDK's own, for every name, default and fallback", () => {
  for (const setting of SETTINGS) {
    const label = `${setting.sampler ?? "(unset)"} ${setting.arg ?? "(no arg)"}`;
    withEnv(setting.sampler, setting.arg, () => {
      const ours = samplerFromEnv();
      const ids = new PooledIds();
      // No sampler given: the provider builds its own from the same variables.
      const tracer = new BasicTracerProvider({ idGenerator: ids }).getTracer("sampler-from-env-test");
      let sampled = 0;
      for (let round = 0; round < 300; round++) {
        const parent = parentOf(round, ids);
        const traceId = trace.getSpanContext(parent)?.traceId ?? ids.generateTraceId();
        if (parent === ROOT_CONTEXT) ids.presetTraceId = traceId;
        const span = tracer.startSpan("PUT /v1/kv/*", { kind: SpanKind.SERVER }, parent);
        assert.equal(span.spanContext().traceId, traceId);
        const theirs = (span.spanContext().traceFlags & TraceFlags.SAMPLED) !== 0;
        const decision = ours.shouldSample(parent, traceId, "PUT /v1/kv/*", SpanKind.SERVER, {}, []).decision;
        assert.equal(decision === SamplingDecision.RECORD_AND_SAMPLED, theirs, `${label}, round ${round}`);
        span.end();
        if (theirs) sampled++;
      }
      const [least, most] = setting.sampled;
      assert.ok(sampled >= least && sampled <= most, `${label}: ${sampled} sampled`);
    });
  }
});
