/**
 * Observability of the Redis endpoint, as of HTTP: per-command metrics in /metrics, a JSON log
 * line per command when the access log is on (never a key or a value), and a span per command
 * when tracing is on.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { SpanStatusCode, trace } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { RawClient, RespReplyError, startRespServer } from "../support/resp.js";

function parseMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const at = line.lastIndexOf(" ");
    values.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return values;
}

function captureLogger(lines: Record<string, unknown>[], raw: string[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString());
      for (const line of chunk.toString().split("\n")) if (line.trim() !== "") lines.push(JSON.parse(line));
      done();
    },
  });
  return pino({ level: "info" }, stream);
}

describe("metrics", () => {
  test("calls, failures, rejections and latency by command; clients connected and blocked; refusals by reason", async () => {
    const s = await startRespServer();
    const a = await RawClient.connect(s.respPort);
    const b = await RawClient.connect(s.respPort);
    try {
      for (let i = 0; i < 7; i++) assert.equal(await a.call("SET", `k${i}`, "v"), "OK");
      for (let i = 0; i < 3; i++) assert.equal(await b.call("GET", `k${i}`), "v");
      assert.ok((await a.call("GET")) instanceof RespReplyError);
      assert.ok((await a.call("NOSUCH", "x")) instanceof RespReplyError);
      assert.ok((await a.call("SET", "k", "v", "NOSUCHFLAG")) instanceof RespReplyError);
      const m = parseMetrics((await s.call("GET", "/metrics")).text);
      assert.equal(m.get('logbook_resp_commands_total{command="set"}'), 8);
      assert.equal(m.get('logbook_resp_commands_total{command="get"}'), 3);
      assert.equal(m.get('logbook_resp_command_duration_seconds_count{command="set"}'), 8);
      assert.ok((m.get('logbook_resp_command_duration_seconds_sum{command="set"}') as number) > 0);
      assert.equal(m.get('logbook_resp_command_duration_seconds_bucket{le="+Inf",command="get"}'), 3);
      assert.equal(m.get('logbook_resp_commands_failed_total{command="set"}'), 1);
      assert.equal(m.get('logbook_resp_commands_rejected_total{command="get"}'), 1);
      assert.equal(m.get('logbook_resp_commands_rejected_total{command="unknown"}'), 1);
      assert.equal(m.get("logbook_resp_clients"), 2);
      assert.equal(m.get("logbook_resp_blocked_clients"), 0);
      assert.equal(m.get("logbook_resp_connections_total"), 2);
      assert.ok(m.has("logbook_resp_buffered_bytes"));
      for (const reason of ["clients_max", "protocol_error", "output_buffer", "auth_failed", "overloaded", "idle_timeout"]) {
        assert.equal(m.get(`logbook_resp_refusals_total{reason="${reason}"}`), 0, reason);
      }
    } finally {
      a.close();
      b.close();
      await s.stop();
    }
  });

  test("a server without a Redis endpoint exports no logbook_resp_ metrics", async () => {
    const s = await startRespServer({ respPort: 0 });
    try {
      assert.doesNotMatch((await s.call("GET", "/metrics")).text, /logbook_resp_/);
    } finally {
      await s.stop();
    }
  });
});

describe("log lines", () => {
  const TOKEN = "acme-token-0123456789";

  test("one JSON line per command: its name, client, tenant, latency, error prefix; never keys, values or tokens", async () => {
    const lines: Record<string, unknown>[] = [];
    const raw: string[] = [];
    const s = await startRespServer({ tokens: [{ token: TOKEN, tenant: "acme" }] }, { logger: captureLogger(lines, raw) });
    const c = await RawClient.connect(s.respPort);
    try {
      assert.ok((await c.call("GET", "secret-key-name")) instanceof RespReplyError);
      assert.equal(await c.call("AUTH", TOKEN), "OK");
      assert.equal(await c.call("SET", "secret-key-name", "secret-value-bytes"), "OK");
      assert.equal(await c.call("GET", "secret-key-name"), "secret-value-bytes");
      assert.ok((await c.call("SET", "secret-key-name", "x", "BADFLAG")) instanceof RespReplyError);
    } finally {
      c.close();
      await s.stop();
    }
    const commands = lines.filter((line) => line.msg === "command");
    assert.deepEqual(
      commands.map((line) => [line.command, line.tenantId, line.error]),
      [
        ["get", undefined, "NOAUTH"],
        ["auth", "acme", undefined],
        ["set", "acme", undefined],
        ["get", "acme", undefined],
        ["set", "acme", "ERR"],
      ],
    );
    for (const line of commands) {
      assert.equal(typeof line.clientId, "number");
      assert.match(String(line.client), /^127\.0\.0\.1:\d+$/);
      assert.equal(typeof line.latencyMs, "number");
    }
    const everything = raw.join("");
    for (const secret of ["secret-key-name", "secret-value-bytes", TOKEN]) assert.ok(!everything.includes(secret), secret);
  });

  test("with the access log off, no line per command", async () => {
    const lines: Record<string, unknown>[] = [];
    const s = await startRespServer({ accessLog: false }, { logger: captureLogger(lines, []) });
    const c = await RawClient.connect(s.respPort);
    try {
      assert.equal(await c.call("SET", "k", "v"), "OK");
      assert.equal(await c.call("GET", "k"), "v");
    } finally {
      c.close();
      await s.stop();
    }
    assert.equal(lines.filter((line) => line.msg === "command").length, 0);
  });
});

describe("tracing", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  before(() => {
    trace.setGlobalTracerProvider(provider);
  });
  after(async () => {
    trace.disable();
    await provider.shutdown();
  });

  test("a SERVER span per command, named as Redis's conventions name it; an error reply marks it failed", async () => {
    const lines: Record<string, unknown>[] = [];
    const s = await startRespServer({}, { tracing: true, logger: captureLogger(lines, []) });
    const c = await RawClient.connect(s.respPort);
    try {
      exporter.reset();
      assert.equal(await c.call("SET", "k", "v"), "OK");
      assert.equal(await c.call("GET", "k"), "v");
      assert.ok((await c.call("SET", "k", "v", "BADFLAG")) instanceof RespReplyError);
    } finally {
      c.close();
      await s.stop();
    }
    const spans = exporter.getFinishedSpans();
    assert.deepEqual(
      spans.map((span) => span.name),
      ["SET", "GET", "SET"],
    );
    const [set, get, failed] = spans;
    assert.equal(set?.attributes["db.system"], "redis");
    assert.equal(set?.attributes["db.operation.name"], "SET");
    assert.equal(set?.attributes["logbook.tenant"], "default");
    assert.equal(get?.status.code, SpanStatusCode.UNSET);
    assert.equal(failed?.status.code, SpanStatusCode.ERROR);
    assert.equal(failed?.attributes["db.response.status_code"], "ERR");
    assert.ok((set?.duration[0] ?? 0) * 1e9 + (set?.duration[1] ?? 0) > 0);
    const logged = lines.filter((line) => line.msg === "command").map((line) => line.traceId);
    assert.deepEqual(
      logged,
      spans.map((span) => span.spanContext().traceId),
      "each command's log line names its trace",
    );
  });
});
