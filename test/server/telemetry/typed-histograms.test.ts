/**
 * The histograms kept in typed arrays must read exactly as prom-client's own Counter and
 * Histogram would for the same observations: same series, same buckets (a value on a bound
 * counts in that bucket), sums and counts, after a reset too; an unlabelled one with no
 * observation yet too.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";
import { PlainHistogram, RequestMetrics } from "../../../src/server/telemetry/typed-histograms.js";

const BOUNDS = [0.0001, 0.001, 0.01, 0.1, 1];

/** Every sample line of a registry, sorted (help texts differ). */
async function samples(registry: Registry): Promise<string[]> {
  return (await registry.metrics())
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("# HELP"))
    .sort();
}

const observation = fc.record({
  route: fc.constantFrom("/v1/kv/*", "/v1/kv", "unmatched", 'a "quoted" \\ route'),
  method: fc.constantFrom("GET", "PUT", "DELETE"),
  status: fc.constantFrom(200, 404, 412, 429, 503),
  seconds: fc.oneof(fc.constantFrom(...BOUNDS, 0, 5), fc.double({ min: 0, max: 3, noNaN: true })),
});

test("request metrics read as prom-client's Counter and Histogram would", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(observation, { maxLength: 200 }), fc.nat(250), async (observations, resetAt) => {
      const ours = new Registry();
      const metrics = new RequestMetrics(ours, { count: "requests_total", duration: "request_seconds" }, BOUNDS);
      const theirs = new Registry();
      const labelNames = ["route", "method", "status"] as const;
      const counter = new Counter({ name: "requests_total", help: "x", labelNames, registers: [theirs] });
      const histogram = new Histogram({ name: "request_seconds", help: "x", labelNames, buckets: BOUNDS, registers: [theirs] });
      for (const [i, { route, method, status, seconds }] of observations.entries()) {
        // The registry's resetMetrics() forgets every series; later observations start anew.
        if (i === resetAt) {
          ours.resetMetrics();
          theirs.resetMetrics();
        }
        metrics.observe(route, method, status, seconds);
        counter.inc({ route, method, status: String(status) });
        histogram.observe({ route, method, status: String(status) }, seconds);
      }
      assert.deepEqual(await samples(ours), await samples(theirs));
    }),
    { numRuns: 200 },
  );
});

test("an unlabelled histogram reads as prom-client's, before and after observations and a reset", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { maxLength: 100 }),
      fc.nat(120),
      async (values, resetAt) => {
        const ours = new Registry();
        const plain = new PlainHistogram(ours, "fsync_seconds", "x", BOUNDS);
        const theirs = new Registry();
        const histogram = new Histogram({ name: "fsync_seconds", help: "x", buckets: BOUNDS, registers: [theirs] });
        assert.deepEqual(await samples(ours), await samples(theirs), "no observation yet");
        for (const [i, value] of values.entries()) {
          if (i === resetAt) {
            ours.resetMetrics();
            theirs.resetMetrics();
          }
          plain.observe(value);
          histogram.observe(value);
        }
        assert.deepEqual(await samples(ours), await samples(theirs));
      },
    ),
    { numRuns: 100 },
  );
});
