/**
 * A log-linear latency histogram (HDR-style: 1/64 relative precision), fixed memory, so that
 * recording millions of samples costs nothing measurable next to what is being measured.
 */
const SUB_BUCKETS = 64;
const EXPONENTS = 48;

export class Histogram {
  private readonly counts = new Float64Array(SUB_BUCKETS * EXPONENTS);
  count = 0;
  private sum = 0;
  private max = 0;

  /** Records a value in microseconds (any unit works, as long as it is the same throughout). */
  record(value: number): void {
    const v = Math.max(0, value);
    const index = Histogram.index(v);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, Histogram.upperBound(i));
    }
    return this.max;
  }

  private static index(value: number): number {
    if (value < SUB_BUCKETS) return Math.floor(value);
    const exponent = Math.floor(Math.log2(value / SUB_BUCKETS)) + 1;
    const base = SUB_BUCKETS * 2 ** (exponent - 1);
    const sub = Math.floor((value - base) / (base / SUB_BUCKETS));
    return Math.min(exponent * SUB_BUCKETS + sub, SUB_BUCKETS * EXPONENTS - 1);
  }

  private static upperBound(index: number): number {
    const exponent = Math.floor(index / SUB_BUCKETS);
    const sub = index % SUB_BUCKETS;
    if (exponent === 0) return sub + 1;
    const base = SUB_BUCKETS * 2 ** (exponent - 1);
    return base + (sub + 1) * (base / SUB_BUCKETS);
  }
}
