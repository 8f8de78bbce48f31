/**
 * The telemetry wing's front door: the one observer the server's routes call (Telemetry, as a
 * RequestObserver), where the server's log lines go (LogDestination), and the metrics of a
 * store on their own (createMetrics). Nothing outside this folder imports any other file in it.
 */

export { LogDestination } from "./log-destination.js";
export { createMetrics, type Metrics } from "./metrics.js";
export type { RespFigures } from "./resp-metrics.js";
export type { StatusFigures } from "./status-window.js";
export { type StreamSummary, streamSummary } from "./stream-figures.js";
export {
  type CommandObserver,
  type ObservedRequest,
  type RequestObserver,
  Telemetry,
  type TelemetryOptions,
} from "./telemetry.js";
export type { RequestTrace, TracedRequest } from "./tracing.js";
