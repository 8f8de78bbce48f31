/**
 * The span export thread: request notes posted to SpanExport reach an OTLP/HTTP collector as
 * spans (ids, parents, trace state, attributes, the resource the OTEL_* variables describe);
 * an unreachable collector makes a flush fail, answered, not hang; after shutdown, notes are
 * dropped and a flush fails at once.
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { SpanKind } from "@opentelemetry/api";
import { SpanExport } from "../../../src/server/telemetry/span-export.js";
import type { RequestNote } from "../../../src/server/telemetry/span-notes.js";
import { type Collector, startCollector } from "../../support/otlp-collector.js";

let collector: Collector;
const saved = { ...process.env };

before(async () => {
  collector = await startCollector();
});
after(async () => {
  await collector.close();
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_SERVICE_NAME"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** A write under a caller's sampled parent (with trace state), durable in a commit of 3. */
function noteOfWrite(): RequestNote {
  const now = Date.now();
  return {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    spanId: "1111111111111111",
    parent: {
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
      isRemote: true,
      traceState: "vendor=abc",
    },
    method: "PUT",
    route: "/v1/kv/*",
    startMs: now - 2,
    endMs: now,
    status: 200,
    tenantId: "acme",
    write: {
      operations: 1,
      startMs: now - 1.5,
      endMs: now - 0.2,
      lsn: 12,
      error: undefined,
      commit: { records: 3, firstLsn: 10, lastLsn: 12, startMs: now - 1, endMs: now - 0.3, fsyncStartMs: now - 0.8 },
    },
  };
}

test("notes cross to the thread and reach the collector as a request's spans", async () => {
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${collector.url}/v1/traces`;
  process.env.OTEL_SERVICE_NAME = "logbook-test";
  const spanExport = new SpanExport();
  try {
    spanExport.send([noteOfWrite()]);
    await spanExport.forceFlush();
    const got = collector.spans;
    assert.deepEqual(got.map((span) => span.name).sort(), [
      "PUT /v1/kv/*",
      "logbook.log.fsync",
      "logbook.log.group_commit",
      "logbook.store.write",
    ]);
    const named = (name: string) => got.find((span) => span.name === name) as (typeof got)[number];
    const request = named("PUT /v1/kv/*");
    assert.equal(request.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(request.spanId, "1111111111111111", "the id the request answered with");
    assert.equal(request.parentSpanId, "00f067aa0ba902b7", "the caller's span");
    assert.equal(request.kind, SpanKind.SERVER + 1, "OTLP numbers kinds from 1");
    assert.ok(
      got.every((span) => span.traceState === "vendor=abc"),
      "the caller's trace state carried on",
    );
    assert.equal(named("logbook.store.write").parentSpanId, request.spanId);
    assert.equal(named("logbook.log.group_commit").parentSpanId, named("logbook.store.write").spanId);
    assert.equal(named("logbook.log.fsync").parentSpanId, named("logbook.log.group_commit").spanId);
    const attribute = (name: string, key: string) => named(name).attributes.find((a) => a.key === key)?.value;
    assert.deepEqual(attribute("logbook.store.write", "logbook.lsn"), { intValue: 12 });
    assert.deepEqual(attribute("logbook.log.group_commit", "logbook.commit.records"), { intValue: 3 });
    assert.deepEqual(attribute("PUT /v1/kv/*", "logbook.tenant"), { stringValue: "acme" });
    const service = collector.resources[0]?.attributes.find((a) => a.key === "service.name");
    assert.equal(service?.value.stringValue, "logbook-test");
  } finally {
    await spanExport.shutdown();
  }
});

test("an unreachable collector: a flush fails, answered; after shutdown notes are dropped and a flush fails at once", async () => {
  // A port that was just free: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `http://127.0.0.1:${port}/v1/traces`;
  // The exporter retries a refused connection until its timeout: keep that short.
  process.env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT = "1000";
  const spanExport = new SpanExport();
  try {
    spanExport.send([noteOfWrite()]);
    await assert.rejects(spanExport.forceFlush(), Error);
  } finally {
    await spanExport.shutdown().catch(() => undefined);
  }
  spanExport.send([noteOfWrite()]);
  await assert.rejects(spanExport.forceFlush(), /stopped/, "the thread is gone: failed, not waited for");
});
