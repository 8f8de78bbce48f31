/**
 * Head sampling decided before a span exists. The SDK decides inside `startSpan`, after it has
 * made ids, sanitized attributes and counted the span: ~4 µs a request in the server for a span
 * that records nothing (1% sampling leaves 99 of 100 such). Here the request asks the same
 * sampler the SDK was built with first, and only a request it would record goes to the SDK,
 * which is handed the trace id the decision was made on. Loaded with the SDK, never otherwise.
 */
import { randomBytes } from "node:crypto";
import type { Attributes, Context, SpanKind } from "@opentelemetry/api";
import { ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { type IdGenerator, type Sampler, SamplingDecision } from "@opentelemetry/sdk-trace-base";

/** 32 KiB: a refill every ~1,360 requests (a trace id and a span id each). */
const POOL_BYTES = 32 * 1024;
const INVALID_TRACE_ID = "0".repeat(32);
const INVALID_SPAN_ID = "0".repeat(16);

/**
 * Trace and span ids hex-encoded from a pool of random bytes: one `randomBytes` per ~1,360 requests
 * instead of four `Math.random` calls per id. Each id is its own flat string (a slice of
 * one long hex string measured slower in the server: every id kept the whole pool alive and
 * was flattened again where it was written). The next root span's trace id can be set in
 * advance, so a span the SDK makes carries the id its sampling decision was made on.
 */
export class PooledIds implements IdGenerator {
  private pool = Buffer.alloc(0);
  private offset = 0;
  /** Taken by the next `generateTraceId`, then cleared. */
  presetTraceId: string | undefined;

  generateTraceId(): string {
    const preset = this.presetTraceId;
    if (preset !== undefined) {
      this.presetTraceId = undefined;
      return preset;
    }
    return this.take(16, INVALID_TRACE_ID);
  }

  generateSpanId(): string {
    return this.take(8, INVALID_SPAN_ID);
  }

  private take(bytes: number, invalid: string): string {
    for (;;) {
      if (this.offset + bytes > this.pool.byteLength) {
        this.pool = randomBytes(POOL_BYTES);
        this.offset = 0;
      }
      const id = this.pool.toString("hex", this.offset, this.offset + bytes);
      this.offset += bytes;
      // All zeros is W3C's invalid id: odds of 2^-64 or less, but never hand it out.
      if (id !== invalid) return id;
    }
  }
}

/** A request span that will not record: its ids, for the `traceparent` answer and the log line. */
export interface UnsampledRequest {
  traceId: string;
  spanId: string;
}

export class HeadSampling {
  readonly ids = new PooledIds();

  constructor(readonly sampler: Sampler) {}

  /**
   * Asks the sampler about a request span under `parent` (the caller's extracted context). When
   * it would not record, returns the ids an unrecorded span would have had; otherwise arranges
   * for the SDK's next root span to get the trace id decided on and returns undefined: the
   * caller then starts the span through the SDK, whose sampler (this same one) agrees, since the
   * standard samplers decide on the parent and the trace id alone.
   */
  decide(parent: Context, name: string, kind: SpanKind, attributes: Attributes): UnsampledRequest | undefined {
    const parentSpan = parent === ROOT_CONTEXT ? undefined : trace.getSpanContext(parent);
    const root = parentSpan === undefined || !trace.isSpanContextValid(parentSpan);
    const traceId = root ? this.ids.generateTraceId() : parentSpan.traceId;
    const { decision } = this.sampler.shouldSample(parent, traceId, name, kind, attributes, []);
    if (decision === SamplingDecision.NOT_RECORD) return { traceId, spanId: this.ids.generateSpanId() };
    if (root) this.ids.presetTraceId = traceId;
    return undefined;
  }
}
