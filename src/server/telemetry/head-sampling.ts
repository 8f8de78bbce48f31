/**
 * Head sampling decided before a span exists. The SDK decides inside `startSpan`, after it has
 * made ids, sanitized attributes and counted the span: work done for every span that then
 * records nothing, which under ratio sampling is most of them. Here the request asks the
 * sampler the OTEL_* variables configure (sampler-from-env.ts) with a trace id of its own, and
 * only a request it would record is noted, under that trace id; its spans are made later, in
 * the export thread (span-notes.ts). Loaded with the SDK, never otherwise.
 */
import { randomBytes } from "node:crypto";
import { type Attributes, type Context, ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { type IdGenerator, type Sampler, SamplingDecision } from "@opentelemetry/sdk-trace-base";

/** 32 KiB: one refill per 1,365 requests (24 bytes each: a trace id and a span id). */
const POOL_BYTES = 32 * 1024;
const INVALID_SPAN_ID = "0".repeat(16);

/**
 * Trace and span ids hex-encoded from a pool of random bytes: one `randomBytes` per pool
 * instead of four `Math.random` calls per id. Each id is its own flat string, not a slice of
 * one long hex string, which would keep the whole pool alive and be flattened again wherever
 * it is written. The next root span's trace id can be set in advance: the one its sampling
 * decision was made on.
 */
export class PooledIds implements IdGenerator {
  private pool = Buffer.alloc(0);
  private offset = 0;
  private reservedOffset = 0;
  /** Taken by the next `generateTraceId`, then cleared. */
  presetTraceId: string | undefined;

  generateTraceId(): string {
    const preset = this.presetTraceId;
    if (preset !== undefined) {
      this.presetTraceId = undefined;
      return preset;
    }
    this.reserveTraceId();
    return this.reservedTraceId();
  }

  /**
   * Sets the next 16 pool bytes aside as a trace id (never all zeros, W3C's invalid id) and
   * returns them folded as the SDK's TraceIdRatioBased sampler folds an id: its four 32-bit
   * words, XORed. A root that is not sampled needs no more than that, not even the hex string.
   */
  reserveTraceId(): number {
    for (;;) {
      const at = this.advance(16);
      let fold = 0;
      let anyBit = 0;
      for (let word = at; word < at + 16; word += 4) {
        const value = this.pool.readInt32BE(word);
        fold ^= value;
        anyBit |= value;
      }
      if (anyBit !== 0) {
        this.reservedOffset = at;
        return fold >>> 0;
      }
    }
  }

  /** The trace id last reserved, as hex; only until the next id is made (the pool is reused). */
  reservedTraceId(): string {
    return this.pool.toString("hex", this.reservedOffset, this.reservedOffset + 16);
  }

  generateSpanId(): string {
    for (;;) {
      const at = this.advance(8);
      const id = this.pool.toString("hex", at, at + 8);
      if (id !== INVALID_SPAN_ID) return id;
    }
  }

  /** The offset of the next `bytes` of the pool, refilled when they would run past its end. */
  private advance(bytes: number): number {
    if (this.offset + bytes > this.pool.byteLength) {
      this.pool = randomBytes(POOL_BYTES);
      this.offset = 0;
    }
    const at = this.offset;
    this.offset += bytes;
    return at;
  }
}

/** A request span that will not record: its ids, for the log line and the `traceparent` answer. */
export interface UnsampledRequest {
  traceId: string;
  /** Only under a caller's parent: a new trace that is not sampled answers no `traceparent`. */
  spanId: string | undefined;
}

/**
 * The ratio a sampler samples new traces at when it is the SDK's TraceIdRatioBased, bare or as
 * ParentBased's root, read from its description (`Sampler.toString`); otherwise undefined.
 */
function rootRatioOf(sampler: Sampler): number | undefined {
  const match = /^(?:ParentBased\{root=)?TraceIdRatioBased\{([^}]*)\}/.exec(sampler.toString());
  const ratio = match === null ? Number.NaN : Number(match[1]);
  return ratio >= 0 && ratio <= 1 ? ratio : undefined;
}

/** Roots whose folded trace id is below this are sampled (TraceIdRatioBased's own bound). */
function upperBoundOf(ratio: number): number {
  return ratio === 1 ? 0x100000000 : Math.floor(ratio * 0xffffffff);
}

/** Random trace ids a fast root decision must agree with the sampler on before it is used. */
const AGREEMENT_CHECKS = 4096;

export class HeadSampling {
  readonly ids = new PooledIds();
  /**
   * Set when new traces can be decided from the trace id's bytes, as the SDK's ratio sampler
   * decides them, without the sampler's own per-request regex check and hex parsing of the
   * id. Undefined: the sampler is asked.
   */
  private readonly rootUpperBound: number | undefined;

  constructor(readonly sampler: Sampler) {
    const ratio = rootRatioOf(sampler);
    const upperBound = ratio === undefined ? undefined : upperBoundOf(ratio);
    this.rootUpperBound = upperBound !== undefined && this.agreesWithSampler(upperBound) ? upperBound : undefined;
  }

  /** Whether a fast root decision at `upperBound` is the sampler's own, on random trace ids. */
  private agreesWithSampler(upperBound: number): boolean {
    const probe = new PooledIds();
    for (let i = 0; i < AGREEMENT_CHECKS; i++) {
      const sampled = probe.reserveTraceId() < upperBound;
      const traceId = probe.reservedTraceId();
      const { decision } = this.sampler.shouldSample(ROOT_CONTEXT, traceId, "probe", SpanKind.SERVER, {}, []);
      if (sampled !== (decision === SamplingDecision.RECORD_AND_SAMPLED)) return false;
    }
    return true;
  }

  /** Whether new traces are decided without asking the sampler (for tests). */
  get decidesRootsFromIds(): boolean {
    return this.rootUpperBound !== undefined;
  }

  /**
   * Whether a request with no parent starts a recorded trace, decided from a freshly reserved
   * trace id's bytes (only when `decidesRootsFromIds`). Recorded: `ids.presetTraceId` holds
   * that id for the request. Not recorded: nothing was made; `ids.reservedTraceId()` names it if wanted.
   */
  sampleRoot(): boolean {
    const sampled = this.ids.reserveTraceId() < (this.rootUpperBound as number);
    if (sampled) this.ids.presetTraceId = this.ids.reservedTraceId();
    return sampled;
  }

  /**
   * Asks the sampler about a request span under `parent` (the caller's extracted context). When
   * it would not record, returns the ids an unrecorded span would have had (a span id only
   * under a parent, the one case it is answered with); otherwise returns undefined and, for a new
   * trace, leaves the trace id decided on in `ids.presetTraceId` for the request to take.
   */
  decide(parent: Context, name: string, kind: SpanKind, attributes: Attributes): UnsampledRequest | undefined {
    const parentSpan = parent === ROOT_CONTEXT ? undefined : trace.getSpanContext(parent);
    const root = parentSpan === undefined || !trace.isSpanContextValid(parentSpan);
    if (root && this.rootUpperBound !== undefined) {
      return this.sampleRoot() ? undefined : { traceId: this.ids.reservedTraceId(), spanId: undefined };
    }
    const traceId = root ? this.ids.generateTraceId() : parentSpan.traceId;
    const records =
      this.sampler.shouldSample(parent, traceId, name, kind, attributes, []).decision !== SamplingDecision.NOT_RECORD;
    if (!records) return { traceId, spanId: root ? undefined : this.ids.generateSpanId() };
    if (root) this.ids.presetTraceId = traceId;
    return undefined;
  }
}
