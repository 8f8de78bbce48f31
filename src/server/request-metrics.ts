/**
 * The per-request metrics: a count and a latency histogram by route, method and status.
 * They are kept in plain typed arrays, one set per label combination, and handed to the
 * prom-client registry as two metrics it formats when scraped. prom-client's own Counter and
 * Histogram hash their label object on every observation, even through a `labels()` child:
 * that was most of what metrics cost per request, and a request is our hottest path.
 */
import type { Metric, Registry } from "prom-client";

interface Series {
  labels: { route: string; method: string; status: string };
  /** Observations per bucket, not cumulative: bucket i counts values <= bounds[i] and > bounds[i-1]. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

interface Value {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

/** The shape prom-client's Registry reads from a metric when it formats /metrics. */
interface Collected {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  values: Value[];
}

export class RequestMetrics {
  private readonly series = new Map<string, Series>();

  constructor(
    registry: Registry,
    private readonly names: { count: string; duration: string },
    private readonly boundsSeconds: readonly number[],
  ) {
    registry.registerMetric(this.metric(names.count, "HTTP requests answered, by route, method and status", "counter"));
    registry.registerMetric(
      this.metric(names.duration, "Time from a request's arrival to its answer, by route, method and status", "histogram"),
    );
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = `${route} ${method} ${status}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = {
        labels: { route, method, status: String(status) },
        buckets: new Float64Array(this.boundsSeconds.length),
        sum: 0,
        count: 0,
      };
      this.series.set(key, series);
    }
    const bounds = this.boundsSeconds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++;
    if (bucket < bounds.length) (series.buckets[bucket] as number)++;
    series.sum += seconds;
    series.count++;
  }

  private metric(name: string, help: string, type: "counter" | "histogram"): Metric {
    const get = async (): Promise<Collected> => ({
      name,
      help,
      type,
      aggregator: "sum",
      values: type === "counter" ? this.counts() : this.histogram(),
    });
    // Duck-typed: the registry only calls get() and reads the name (reset() for resetMetrics()).
    const metric = { name, help, type, aggregator: "sum", get, reset: () => this.series.clear() };
    return metric as unknown as Metric;
  }

  private counts(): Value[] {
    return [...this.series.values()].map((series) => ({ labels: series.labels, value: series.count }));
  }

  private histogram(): Value[] {
    const values: Value[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      this.boundsSeconds.forEach((bound, i) => {
        cumulative += series.buckets[i] as number;
        values.push({ metricName: `${this.names.duration}_bucket`, labels: { le: bound, ...series.labels }, value: cumulative });
      });
      values.push(
        { metricName: `${this.names.duration}_bucket`, labels: { le: "+Inf", ...series.labels }, value: series.count },
        { metricName: `${this.names.duration}_sum`, labels: series.labels, value: series.sum },
        { metricName: `${this.names.duration}_count`, labels: series.labels, value: series.count },
      );
    }
    return values;
  }
}
