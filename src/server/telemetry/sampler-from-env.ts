/**
 * The sampler the OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG variables name, built from
 * the SDK's public samplers as the SDK's own tracer provider builds it: the same names, the
 * same default (`parentbased_always_on`), the same fallback ratio (1) for an argument that is
 * blank or outside [0, 1], and the same diagnostics for values it does not take.
 */
import { diag } from "@opentelemetry/api";
import { getNumberFromEnv, getStringFromEnv } from "@opentelemetry/core";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";

const DEFAULT_SAMPLER = "parentbased_always_on";
const DEFAULT_RATIO = 1;

/** The ratio OTEL_TRACES_SAMPLER_ARG gives, or the default when it gives none in [0, 1]. */
function ratioFromEnv(): number {
  const ratio = getNumberFromEnv("OTEL_TRACES_SAMPLER_ARG");
  if (ratio === undefined) {
    diag.error(`OTEL_TRACES_SAMPLER_ARG is blank, defaulting to ${DEFAULT_RATIO}.`);
    return DEFAULT_RATIO;
  }
  if (ratio < 0 || ratio > 1) {
    diag.error(`OTEL_TRACES_SAMPLER_ARG=${ratio} was given, but it is out of range ([0..1]), defaulting to ${DEFAULT_RATIO}.`);
    return DEFAULT_RATIO;
  }
  return ratio;
}

/** The sampler OTEL_TRACES_SAMPLER names (read now, from process.env). */
export function samplerFromEnv(): Sampler {
  const name = getStringFromEnv("OTEL_TRACES_SAMPLER") ?? DEFAULT_SAMPLER;
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratioFromEnv());
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratioFromEnv()) });
    default:
      diag.error(`OTEL_TRACES_SAMPLER value "${name}" invalid, defaulting to "${DEFAULT_SAMPLER}".`);
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
