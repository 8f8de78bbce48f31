/**
 * Tracing as an operator switches it on: `logbook serve` with the standard OTEL_* variables,
 * exporting OTLP/HTTP to a collector the test runs. Head sampling is decided before any span
 * exists, so what must hold is that the decision and the export agree: every request answered
 * as sampled is exported with its spans, none that was not sampled is (those answer no
 * `traceparent` and are found by their log line), and a caller's sampled parent is followed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type ExportedSpan, startCollector } from "../support/otlp-collector.js";
import { call } from "../support/server.js";
import { killProcess, startServerProcess } from "../support/server-process.js";
import { tempDir } from "../support/temp.js";

test("OTEL_* variables: head-sampled requests are exported with their spans, unsampled ones logged but never exported", async () => {
  const { path: dir, cleanup } = await tempDir("logbook-otlp-");
  const collector = await startCollector();
  const server = await startServerProcess(["--data-dir", dir], {
    OTEL_TRACES_EXPORTER: "otlp",
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "0.5",
    OTEL_BSP_SCHEDULE_DELAY: "100",
  });
  try {
    /** Trace id → the request span id it was answered with. */
    const sampled = new Map<string, string>();
    const unsampledRequestIds: string[] = [];
    for (let i = 0; i < 60; i++) {
      const reply = await call(server.url, "PUT", `/v1/kv/k${i}`, { json: i });
      assert.equal(reply.status, 200);
      const answer = reply.headers.get("traceparent");
      if (answer === null) {
        // Not sampled: no trace to look up, so no traceparent; X-Request-Id finds its log line.
        unsampledRequestIds.push(reply.headers.get("x-request-id") as string);
        continue;
      }
      const [, traceId, spanId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(answer) ?? [];
      assert.ok(traceId !== undefined && spanId !== undefined, `a sampled traceparent answer: ${answer}`);
      sampled.set(traceId, spanId);
    }
    // 60 draws at one half: fewer than 10 of either is a 1-in-10^7 event, not bad luck.
    assert.ok(
      sampled.size >= 10 && unsampledRequestIds.length >= 10,
      `sampled ${sampled.size}, not ${unsampledRequestIds.length}`,
    );
    assert.equal(sampled.size + unsampledRequestIds.length, 60);

    // A caller's sampled parent is followed whatever the ratio would say; an unsampled one is not.
    const parentTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const followed = await call(server.url, "PUT", "/v1/kv/child", {
      json: "c",
      headers: { traceparent: `00-${parentTrace}-00f067aa0ba902b7-01` },
    });
    assert.match(followed.headers.get("traceparent") ?? "", new RegExp(`^00-${parentTrace}-[0-9a-f]{16}-01$`));
    const refusedTrace = "0af7651916cd43dd8448eb211c80319c";
    const notFollowed = await call(server.url, "PUT", "/v1/kv/child2", {
      json: "d",
      headers: { traceparent: `00-${refusedTrace}-b7ad6b7169203331-00` },
    });
    assert.match(notFollowed.headers.get("traceparent") ?? "", new RegExp(`^00-${refusedTrace}-[0-9a-f]{16}-00$`));

    // SIGTERM flushes the exporter's queue before the process exits.
    await killProcess(server.child, "SIGTERM");
    const exportedTraces = new Set(collector.spans.map((span) => span.traceId));
    for (const [traceId, spanId] of sampled) {
      const spans = collector.spans.filter((span) => span.traceId === traceId);
      const names = spans.map((span) => span.name).sort();
      assert.deepEqual(names, ["PUT /v1/kv/*", "logbook.log.fsync", "logbook.log.group_commit", "logbook.store.write"]);
      // The spans are made after the answer, with the id it carried, and hang together.
      const named = (name: string) => spans.find((span) => span.name === name) as ExportedSpan;
      assert.equal(named("PUT /v1/kv/*").spanId, spanId, "the request span is the one the answer named");
      assert.equal(named("logbook.store.write").parentSpanId, spanId);
      assert.equal(named("logbook.log.group_commit").parentSpanId, named("logbook.store.write").spanId);
      assert.equal(named("logbook.log.fsync").parentSpanId, named("logbook.log.group_commit").spanId);
    }
    assert.ok(!exportedTraces.has(refusedTrace), "a caller's unsampled parent: nothing exported");
    const child = collector.spans.find((span) => span.traceId === parentTrace && span.name === "PUT /v1/kv/*");
    assert.equal(child?.parentSpanId, "00f067aa0ba902b7", "the request span is the caller's child");
    assert.equal(exportedTraces.size, sampled.size + 1, "nothing exported but the sampled requests and the followed one");

    // Every request's log line carries its trace id, sampled or not; the unsampled ones are
    // new traces of their own, and none of them was exported.
    const lines = server.logs.filter((line) => line.msg === "request");
    const traceIdOf = (requestId: string) => lines.find((line) => line.correlationId === requestId)?.traceId as string;
    for (const traceId of sampled.keys())
      assert.ok(
        lines.some((line) => line.traceId === traceId),
        `no log line with trace ${traceId}`,
      );
    const unsampled = new Set(unsampledRequestIds.map(traceIdOf));
    assert.equal(unsampled.size, unsampledRequestIds.length, "a trace id of its own in each unsampled request's log line");
    for (const traceId of unsampled) {
      assert.match(traceId, /^[0-9a-f]{32}$/);
      assert.ok(!sampled.has(traceId) && !exportedTraces.has(traceId), `unsampled trace ${traceId} was exported`);
    }
  } finally {
    await killProcess(server.child);
    await collector.close();
    await cleanup();
  }
});
