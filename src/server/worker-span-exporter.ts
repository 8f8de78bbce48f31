/**
 * A SpanExporter that hands finished spans to a thread of their own (otlp-export-thread.ts),
 * where the OTLP/HTTP exporter, configured from OTEL_* as usual, sends them.
 *
 * Why a thread: the exporter's HTTP client runs through the same Node http, net and stream code
 * as the server's own sockets. On the event loop, every export (one POST every few seconds)
 * fed that shared code a second kind of object, and V8 threw away and re-made its optimized
 * code for the request path each time: 110 deoptimizations in 20 s of load, against 46 with the
 * export left out (bench:server, c=64, 1% sampled). A worker has its own V8 heap and its own
 * compiled code. The spans cross as plain data (structured clone); the thread rebuilds them
 * as the exporter reads them (ReadableSpan).
 */
import type { Attributes, HrTime, SpanContext, SpanKind, SpanStatus } from "@opentelemetry/api";
import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter, TimedEvent } from "@opentelemetry/sdk-trace-base";
import { startWorker } from "../start-worker.js";

/** A span context as plain data: the trace state as its W3C string. */
export interface SpanContextData {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote: boolean | undefined;
  traceState: string | undefined;
}

/** A finished span as plain data; `resource` indexes the batch's resources. */
export interface SpanData {
  name: string;
  kind: SpanKind;
  spanContext: SpanContextData;
  parentSpanContext: SpanContextData | undefined;
  startTime: HrTime;
  endTime: HrTime;
  duration: HrTime;
  status: SpanStatus;
  attributes: Attributes;
  links: { context: SpanContextData; attributes: Attributes | undefined; droppedAttributesCount: number | undefined }[];
  events: TimedEvent[];
  droppedAttributesCount: number;
  droppedEventsCount: number;
  droppedLinksCount: number;
  instrumentationScope: { name: string; version: string | undefined; schemaUrl: string | undefined };
  resource: number;
}

export interface ResourceData {
  attributes: Attributes;
  schemaUrl: string | undefined;
}

/** Main thread → export thread. */
export type ExportRequest =
  | { type: "export"; id: number; resources: ResourceData[]; spans: SpanData[] }
  | { type: "shutdown"; id: number };

/** Export thread → main thread: how request `id` went. */
export interface ExportReply {
  id: number;
  code: number;
  error: string | undefined;
}

function contextData(context: SpanContext): SpanContextData {
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: context.traceFlags,
    isRemote: context.isRemote,
    traceState: context.traceState?.serialize(),
  };
}

export class WorkerSpanExporter implements SpanExporter {
  private readonly thread = startWorker(import.meta.url, "otlp-export-thread", undefined);
  /** Requests sent and not yet answered: how to settle each, and a promise of its answer. */
  private readonly waiting = new Map<number, { settle: (reply: ExportReply) => void; answered: Promise<void> }>();
  private nextId = 0;
  /** Set once the thread has stopped (shutdown, or a crash): exports fail at once. */
  private exited = false;

  constructor() {
    // As with the SDK's own exporter, only an export in flight holds the process up (send, settle).
    this.thread.unref();
    this.thread.on("message", (reply: ExportReply) => this.waiting.get(reply.id)?.settle(reply));
    this.thread.on("error", (error) => this.failAll(error.message));
    this.thread.on("exit", () => {
      this.exited = true;
      this.failAll("the span export thread exited");
    });
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const resources: ResourceData[] = [];
    const resourceIndex = new Map<unknown, number>();
    const data = spans.map((span): SpanData => {
      let resource = resourceIndex.get(span.resource);
      if (resource === undefined) {
        resource = resources.push({ attributes: span.resource.attributes, schemaUrl: span.resource.schemaUrl }) - 1;
        resourceIndex.set(span.resource, resource);
      }
      const scope = span.instrumentationScope;
      return {
        name: span.name,
        kind: span.kind,
        spanContext: contextData(span.spanContext()),
        parentSpanContext: span.parentSpanContext === undefined ? undefined : contextData(span.parentSpanContext),
        startTime: span.startTime,
        endTime: span.endTime,
        duration: span.duration,
        status: span.status,
        attributes: span.attributes,
        links: span.links.map((link) => ({
          context: contextData(link.context),
          attributes: link.attributes,
          droppedAttributesCount: link.droppedAttributesCount,
        })),
        events: span.events,
        droppedAttributesCount: span.droppedAttributesCount,
        droppedEventsCount: span.droppedEventsCount,
        droppedLinksCount: span.droppedLinksCount,
        instrumentationScope: { name: scope.name, version: scope.version, schemaUrl: scope.schemaUrl },
        resource,
      };
    });
    this.send({ type: "export", id: this.nextId++, resources, spans: data }, (reply) =>
      resultCallback(reply.error === undefined ? { code: reply.code } : { code: reply.code, error: new Error(reply.error) }),
    );
  }

  /** Waits for the exports sent so far, then stops the exporter in the thread and the thread. */
  async shutdown(): Promise<void> {
    await new Promise<ExportReply>((resolve) => this.send({ type: "shutdown", id: this.nextId++ }, resolve));
    await this.thread.terminate();
    this.exited = true;
  }

  /** Resolves once every export sent so far has been answered. */
  async forceFlush(): Promise<void> {
    await Promise.all([...this.waiting.values()].map((request) => request.answered));
  }

  private send(request: ExportRequest, done: (reply: ExportReply) => void): void {
    if (this.exited) {
      done({ id: request.id, code: 1, error: "the span export thread has stopped" });
      return;
    }
    let settle: (reply: ExportReply) => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      settle = (reply) => {
        this.waiting.delete(request.id);
        if (this.waiting.size === 0) this.thread.unref();
        done(reply);
        resolve();
      };
    });
    this.waiting.set(request.id, { settle, answered });
    this.thread.ref();
    try {
      this.thread.postMessage(request);
    } catch (error) {
      settle({ id: request.id, code: 1, error: (error as Error).message });
    }
  }

  private failAll(reason: string): void {
    for (const [id, request] of [...this.waiting]) request.settle({ id, code: 1, error: reason });
  }
}
