/**
 * Our own tracing, started when the standard OTEL_* variables ask for it: the head sampling
 * (with the sampler those variables name) and the span export thread. Its modules (and the SDK
 * under them) are loaded only then; with tracing off, none of them is.
 */
import type { OwnTracing } from "./tracing.js";

/** What the environment asks for: an exporter is configured and the SDK is not disabled. */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED === "true") return false;
  const exporter = env.OTEL_TRACES_EXPORTER;
  if (exporter !== undefined) return exporter.split(",").some((name) => name.trim() !== "none" && name.trim() !== "");
  return env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined;
}

/**
 * Starts tracing as the OTEL_* variables configure it and registers the W3C trace-context
 * propagator; resolves with its shutdown (which exports what is queued), the head sampling that
 * decides for requests with the sampler OTEL_TRACES_SAMPLER / _ARG name (sampler-from-env.ts),
 * and where recorded requests' notes go: the span export thread, which makes their spans and
 * runs the exporters OTEL_TRACES_EXPORTER names (span-export-thread.ts).
 * No tracer provider is registered: the server makes no span on the event loop.
 * Not NodeSDK: it installs an AsyncLocalStorage context manager, whose promise hooks run on
 * every request's promises (bench/server.ts --modes tracing prices it); contexts are passed
 * explicitly instead.
 */
export async function startSdk(): Promise<{ shutdown: () => Promise<void>; ours: OwnTracing }> {
  const [{ propagation }, core, { samplerFromEnv }, { HeadSampling }, { SpanExport }] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/core"),
    import("./sampler-from-env.js"),
    import("./head-sampling.js"),
    import("./span-export.js"),
  ]);
  const headSampling = new HeadSampling(samplerFromEnv());
  const spanExport = new SpanExport();
  // Only W3C trace context: Tracing reads a request without `traceparent` as a root on that basis.
  propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  return {
    shutdown: () => spanExport.shutdown(),
    ours: { headSampling, exportNotes: (notes) => spanExport.send(notes) },
  };
}
