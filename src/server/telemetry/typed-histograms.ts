/**
 * Histograms kept in plain typed arrays, one set per label combination, and handed to the
 * prom-client registry as metrics it formats when scraped. prom-client's own Histogram (and
 * Counter) hash their label object on every observation, even with no labels or through a
 * `labels()` child; here an observation finds its series by lookups of strings the caller
 * already holds and adds to a bucket. Used for what is observed on the event loop per request
 * (count and latency) and per group commit (fsync and commit latency, records per commit).
 */
import type { Metric, Registry } from "prom-client";

type Labels = Record<string, string>;

interface Series {
  labels: Labels;
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

/** The names of the histogram and, when wanted, of a counter of its observations. */
interface Names {
  histogram: string;
  histogramHelp: string;
  counter?: string;
  counterHelp?: string;
}

class TypedHistogram {
  /** In the order first observed; each subclass finds its own (RequestMetrics by its labels). */
  private readonly series: Series[] = [];

  constructor(
    registry: Registry,
    private readonly names: Names,
    private readonly bounds: readonly number[],
  ) {
    if (names.counter !== undefined) registry.registerMetric(this.metric(names.counter, names.counterHelp ?? "", "counter"));
    registry.registerMetric(this.metric(names.histogram, names.histogramHelp, "histogram"));
  }

  protected newSeries(labels: Labels): Series {
    const series = { labels, buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
    this.series.push(series);
    return series;
  }

  protected add(series: Series, value: number): void {
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++;
    if (bucket < bounds.length) (series.buckets[bucket] as number)++;
    series.sum += value;
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
    const metric = { name, help, type, aggregator: "sum", get, reset: () => this.clear() };
    return metric as unknown as Metric;
  }

  /** Forgets every series (the registry's resetMetrics()). */
  protected clear(): void {
    this.series.length = 0;
  }

  private counts(): Value[] {
    return this.series.map((series) => ({ labels: series.labels, value: series.count }));
  }

  private histogram(): Value[] {
    const values: Value[] = [];
    for (const series of this.series) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.buckets[i] as number;
        values.push({ metricName: `${this.names.histogram}_bucket`, labels: { le: bound, ...series.labels }, value: cumulative });
      });
      values.push(
        { metricName: `${this.names.histogram}_bucket`, labels: { le: "+Inf", ...series.labels }, value: series.count },
        { metricName: `${this.names.histogram}_sum`, labels: series.labels, value: series.sum },
        { metricName: `${this.names.histogram}_count`, labels: series.labels, value: series.count },
      );
    }
    return values;
  }
}

/** Requests by route, method and status: a count and a latency histogram (seconds). */
export class RequestMetrics extends TypedHistogram {
  constructor(registry: Registry, names: { count: string; duration: string }, boundsSeconds: readonly number[]) {
    super(
      registry,
      {
        histogram: names.duration,
        histogramHelp: "Time from a request's arrival to its answer, by route, method and status",
        counter: names.count,
        counterHelp: "HTTP requests answered, by route, method and status",
      },
      boundsSeconds,
    );
  }

  /**
   * route → method → status → series. A request finds its series through three lookups of
   * strings it already holds (the route's pattern and the method are the same string objects
   * request after request, their hashes cached) instead of a key built per request, which
   * would be concatenated, flattened and hashed, and allocated, each time.
   */
  private readonly byRoute = new Map<string, Map<string, Map<number, Series>>>();

  observe(route: string, method: string, status: number, seconds: number): void {
    const series = this.byRoute.get(route)?.get(method)?.get(status) ?? this.labelled(route, method, status);
    this.add(series, seconds);
  }

  protected override clear(): void {
    super.clear();
    this.byRoute.clear();
  }

  private labelled(route: string, method: string, status: number): Series {
    let byMethod = this.byRoute.get(route);
    if (byMethod === undefined) this.byRoute.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (byStatus === undefined) byMethod.set(method, (byStatus = new Map()));
    const series = this.newSeries({ route, method, status: String(status) });
    byStatus.set(status, series);
    return series;
  }
}

/** A histogram without labels. */
export class PlainHistogram extends TypedHistogram {
  private only: Series | undefined;

  constructor(registry: Registry, name: string, help: string, bounds: readonly number[]) {
    super(registry, { histogram: name, histogramHelp: help }, bounds);
    // Printed with zeros before the first observation, as prom-client prints an unlabelled one.
    this.only = this.newSeries({});
  }

  observe(value: number): void {
    this.only ??= this.newSeries({});
    this.add(this.only, value);
  }

  protected override clear(): void {
    super.clear();
    this.only = undefined;
  }
}

/**
 * Redis commands by name: a count and a latency histogram (seconds). The names come from the
 * endpoint's command table (and "unknown"), so the series are as many as the commands.
 */
export class CommandMetrics extends TypedHistogram {
  private readonly byCommand = new Map<string, Series>();

  constructor(registry: Registry, names: { count: string; duration: string }, boundsSeconds: readonly number[]) {
    super(
      registry,
      {
        histogram: names.duration,
        histogramHelp: "Time from a Redis command's start to its reply (a write's once durable), by command",
        counter: names.count,
        counterHelp: "Redis commands run, by command",
      },
      boundsSeconds,
    );
  }

  observe(command: string, seconds: number): void {
    let series = this.byCommand.get(command);
    if (series === undefined) this.byCommand.set(command, (series = this.newSeries({ command })));
    this.add(series, seconds);
  }

  protected override clear(): void {
    super.clear();
    this.byCommand.clear();
  }
}
