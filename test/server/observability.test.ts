/**
 * Observability: /metrics (Prometheus text, conventional names, figures that match what
 * happened), OpenTelemetry spans of a request (with an in-memory exporter), and the JSON
 * log lines (correlation ids, no tokens, no values).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { NodeFileSystem } from "../../src/io/node-file-system.js";
import { FaultyFileSystem } from "../support/faulty-fs.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** Parses the Prometheus text format into `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const at = line.lastIndexOf(" ");
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

async function scrape(s: TestServer): Promise<Map<string, number>> {
  const reply = await s.call("GET", "/metrics");
  assert.equal(reply.status, 200);
  assert.match(reply.headers.get("content-type") ?? "", /^text\/plain/);
  return parseMetrics(reply.text);
}

describe("metrics", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ checkpointEveryBytes: 0 });
  });
  after(() => s.stop());

  test("request, log and store figures match what happened; names follow Prometheus conventions", async () => {
    let last = 0;
    for (let i = 0; i < 25; i++) last = (await s.call("PUT", `/v1/kv/m${i}`, { json: i })).json.version;
    for (let i = 0; i < 5; i++) assert.equal((await s.call("GET", `/v1/kv/m${i}`)).status, 200);
    assert.equal((await s.call("GET", "/v1/kv/missing")).status, 404);
    // No route: counted as "unmatched"; a public route (no token) under its own pattern.
    assert.equal((await s.call("GET", "/no/such/route")).status, 404);
    assert.equal((await fetch(`${s.url}/healthz`)).status, 200);
    await s.server.store.checkpoint();
    const m = await scrape(s);
    assert.equal(m.get('logbook_http_requests_total{route="/v1/kv/*",method="PUT",status="200"}'), 25);
    assert.equal(m.get('logbook_http_requests_total{route="/v1/kv/*",method="GET",status="200"}'), 5);
    assert.equal(m.get('logbook_http_requests_total{route="/v1/kv/*",method="GET",status="404"}'), 1);
    assert.equal(m.get('logbook_http_requests_total{route="unmatched",method="GET",status="404"}'), 1);
    assert.equal(m.get('logbook_http_requests_total{route="/healthz",method="GET",status="200"}'), 1);
    assert.equal(m.get('logbook_http_request_duration_seconds_count{route="/v1/kv/*",method="PUT",status="200"}'), 25);
    assert.equal(m.get("logbook_log_durable_lsn"), last);
    assert.equal(m.get("logbook_log_appends_total"), 25);
    const commits = m.get("logbook_log_commits_total") as number;
    assert.ok(commits >= 1 && commits <= 25);
    // One PUT at a time: the event loop commits itself rather than wake the writer thread.
    const onEventLoop = m.get("logbook_log_commits_on_event_loop_total") as number;
    assert.ok(onEventLoop >= 1 && onEventLoop <= commits, `${onEventLoop} of ${commits} on the event loop`);
    assert.equal(m.get("logbook_log_records_per_fsync_count"), commits);
    assert.equal(m.get("logbook_log_records_per_fsync_sum"), 25);
    assert.equal(m.get("logbook_log_fsync_duration_seconds_count"), commits);
    assert.ok((m.get("logbook_log_fsync_duration_seconds_sum") as number) > 0);
    assert.equal(m.get("logbook_log_failed"), 0);
    assert.ok((m.get("logbook_log_disk_bytes") as number) > 0);
    assert.equal(m.get("logbook_store_keys"), 25);
    assert.equal(m.get("logbook_store_checkpoints_total"), 1);
    assert.equal(m.get("logbook_store_checkpoint_duration_seconds_count"), 1);
    assert.equal(m.get("logbook_store_checkpoint_lsn"), last);
    assert.equal(m.get("logbook_store_log_bytes_since_checkpoint"), 0);
    assert.ok(m.has("logbook_store_recovery_duration_seconds"));
    assert.ok(m.has("logbook_store_recovery_records_replayed"));
    for (const name of [
      "logbook_process_cpu_seconds_total",
      "logbook_nodejs_heap_size_used_bytes",
      "logbook_nodejs_eventloop_lag_seconds",
    ]) {
      assert.ok(m.has(name), `process metric ${name}`);
    }
    for (const series of m.keys()) {
      const name = series.replace(/\{.*$/, "");
      assert.match(name, /^logbook_[a-z0-9_]+$/, name);
      assert.doesNotMatch(name, /_(ms|milliseconds|kb|mb)(_|$)/, `${name}: base units only`);
    }
  });

  test("the Grafana dashboard and the alert rules use only metrics that exist", async () => {
    const text = (await s.call("GET", "/metrics")).text;
    const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const docs = readFileSync("docs/grafana-dashboard.json", "utf8") + readFileSync("docs/prometheus-alerts.yml", "utf8");
    JSON.parse(readFileSync("docs/grafana-dashboard.json", "utf8"));
    const used = new Set([...docs.matchAll(/\blogbook_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, "")));
    assert.ok(used.size >= 15);
    for (const name of used) assert.ok(families.has(name), `${name} is used in docs/ but not exported`);
  });

  test("429s are counted as overloaded", async () => {
    const small = await startTestServer({ inFlightWritesMax: 1 });
    try {
      const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => small.call("PUT", `/v1/kv/o${i}`, { json: i })));
      const refused = replies.filter((r) => r.status === 429).length;
      const m = await scrape(small);
      assert.equal(m.get('logbook_http_rejections_total{reason="overloaded"}'), refused);
    } finally {
      await small.stop();
    }
  });

  test("after a log failure: 503s counted as unavailable, logbook_log_failed is 1, and the failure is logged", async () => {
    const lines: Record<string, unknown>[] = [];
    const faulty = new FaultyFileSystem(new NodeFileSystem());
    const failing = await startTestServer({ checkpointOnExit: false }, { fileSystem: faulty, logger: captureLogger(lines) });
    try {
      faulty.failAfter("datasync-eio", 0);
      assert.equal((await failing.call("PUT", "/v1/kv/x", { json: 1 })).status, 503);
      assert.equal((await failing.call("PUT", "/v1/kv/y", { json: 1 })).status, 503);
      const m = await scrape(failing);
      assert.equal(m.get('logbook_http_rejections_total{reason="unavailable"}'), 2);
      assert.equal(m.get("logbook_log_failed"), 1);
      assert.ok(lines.some((line) => line.msg?.toString().startsWith("the log failed") && line.level === 50));
    } finally {
      await failing.stop();
    }
  });

  test("--no-commit-on-event-loop: the writer thread makes every commit", async () => {
    const threaded = await startTestServer({ commitOnEventLoop: false });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await threaded.call("PUT", `/v1/kv/t${i}`, { json: i })).status, 200);
      const m = await scrape(threaded);
      assert.ok((m.get("logbook_log_commits_total") as number) >= 1);
      assert.equal(m.get("logbook_log_commits_on_event_loop_total"), 0);
    } finally {
      await threaded.stop();
    }
  });

  test("--no-metrics: no /metrics route", async () => {
    const quiet = await startTestServer({ metrics: false });
    try {
      assert.equal((await quiet.call("GET", "/metrics")).status, 404);
    } finally {
      await quiet.stop();
    }
  });
});

function captureLogger(lines: Record<string, unknown>[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "info", redact: ["req.headers.authorization", "tokens"] }, stream);
}

describe("tracing", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  before(() => {
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  after(async () => {
    await provider.shutdown();
    trace.disable();
    propagation.disable();
  });

  test("a write's spans: request (child of the caller's traceparent), store write, group commit with its size, fsync", async () => {
    const s = await startTestServer({}, { tracing: true });
    try {
      exporter.reset();
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const callerSpanId = "00f067aa0ba902b7";
      const reply = await s.call("PUT", "/v1/kv/traced", {
        json: "t",
        headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
      });
      assert.equal(reply.status, 200);
      assert.match(reply.headers.get("traceparent") ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), "propagated back");
      const spans = exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId);
      const byName = new Map(spans.map((span) => [span.name, span]));
      const request = byName.get("PUT /v1/kv/*");
      const write = byName.get("logbook.store.write");
      const commit = byName.get("logbook.log.group_commit");
      const fsync = byName.get("logbook.log.fsync");
      assert.ok(request && write && commit && fsync, `spans: ${[...byName.keys()].join(", ")}`);
      assert.equal(request.parentSpanContext?.spanId, callerSpanId);
      assert.equal(write.parentSpanContext?.spanId, request.spanContext().spanId);
      assert.equal(commit.parentSpanContext?.spanId, write.spanContext().spanId);
      assert.equal(fsync.parentSpanContext?.spanId, commit.spanContext().spanId);
      assert.equal(request.attributes["http.response.status_code"], 200);
      assert.equal(write.attributes["logbook.lsn"], reply.json.version);
      assert.ok((commit.attributes["logbook.commit.records"] as number) >= 1);
      const ms = (time: [number, number]) => time[0] * 1000 + time[1] / 1e6;
      assert.ok(ms(fsync.startTime) >= ms(commit.startTime) - 0.001, "the fsync is inside its commit");
      assert.ok(ms(fsync.endTime) <= ms(commit.endTime) + 0.001);
    } finally {
      await s.stop();
    }
  });

  test("a caller's unsampled traceparent: answered in the same trace, nothing recorded; no traceparent: a new trace", async () => {
    const s = await startTestServer({}, { tracing: true });
    try {
      exporter.reset();
      const traceId = "0af7651916cd43dd8448eb211c80319c";
      const unsampled = await s.call("PUT", "/v1/kv/unsampled", {
        json: 1,
        headers: { traceparent: `00-${traceId}-b7ad6b7169203331-00` },
      });
      assert.equal(unsampled.status, 200);
      assert.match(unsampled.headers.get("traceparent") ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
      assert.equal(exporter.getFinishedSpans().length, 0, "a parent that is not sampled: no span below it either");
      const fresh = await s.call("PUT", "/v1/kv/fresh", { json: 2 });
      const [, freshTraceId] = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(fresh.headers.get("traceparent") ?? "") ?? [];
      assert.ok(freshTraceId !== undefined && freshTraceId !== traceId, "a new, sampled trace");
      const names = exporter
        .getFinishedSpans()
        .filter((span) => span.spanContext().traceId === freshTraceId)
        .map((span) => span.name)
        .sort();
      assert.deepEqual(names, ["PUT /v1/kv/*", "logbook.log.fsync", "logbook.log.group_commit", "logbook.store.write"]);
    } finally {
      await s.stop();
    }
  });

  test("off: not one span is created", async () => {
    const s = await startTestServer({}, { tracing: false });
    try {
      exporter.reset();
      await s.call("PUT", "/v1/kv/untraced", {
        json: 1,
        headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
      });
      assert.equal(exporter.getFinishedSpans().length, 0);
    } finally {
      await s.stop();
    }
  });
});

describe("logs", () => {
  test("one JSON line per request with correlationId, tenantId, route, status, latencyMs; no tokens, no values", async () => {
    const lines: Record<string, unknown>[] = [];
    const token = "log-token-0123456789abcdef";
    const s = await startTestServer({ tokens: [{ token, tenant: "acme" }] }, { logger: captureLogger(lines) });
    try {
      const given = await s.call("PUT", "/v1/kv/logged", {
        json: "VALUE-THAT-MUST-NOT-BE-LOGGED",
        token,
        headers: { "x-request-id": "req-42" },
      });
      assert.equal(given.headers.get("x-request-id"), "req-42");
      const generated = await s.call("GET", "/v1/kv/logged", { token });
      const generatedId = generated.headers.get("x-request-id") as string;
      assert.match(generatedId, /^[0-9a-f-]{36}$/);
      await s.call("GET", "/v1/kv/logged", { headers: { authorization: "Bearer wrong-token-0123456789" } });
      await s.server.store.checkpoint();
      const requestLines = lines.filter((line) => line.msg === "request");
      const put = requestLines.find((line) => line.correlationId === "req-42");
      assert.ok(put, "the client's X-Request-Id is the correlation id");
      assert.equal(put.tenantId, "acme");
      assert.equal(put.route, "/v1/kv/*");
      assert.equal(put.status, 200);
      assert.equal(typeof put.latencyMs, "number");
      assert.ok(requestLines.some((line) => line.correlationId === generatedId));
      assert.ok(requestLines.some((line) => line.status === 401));
      const start = lines.find((line) => line.msg === "logbook is serving") as { config: { tokens: string }; recovery: unknown };
      assert.equal(start.config.tokens, "1 configured");
      assert.ok(start.recovery, "the recovery report is logged at start");
      assert.ok(lines.some((line) => line.msg === "checkpoint written"));
      const everything = JSON.stringify(lines);
      assert.ok(!everything.includes(token), "no token is logged");
      assert.ok(!everything.includes("wrong-token-0123456789"), "not even a wrong one");
      assert.ok(!everything.includes("VALUE-THAT-MUST-NOT-BE-LOGGED"), "no value is logged");
    } finally {
      await s.stop();
    }
  });
});
