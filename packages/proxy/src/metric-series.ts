import { Gauge, type Counter, type Histogram } from 'prom-client';

/** One series of a counter or gauge: its labels (their key order is the exposition's) and value. */
export interface Sample<Labels> {
  readonly labels: Labels;
  value: number;
}

/**
 * The series of one counter or gauge, counted in plain numbers by the call path and handed to
 * prom-client only when it collects (on every scrape, and on the workers' `getMetricsAsJSON()`).
 * prom-client's own `inc` validates and hashes the labels on every call, about 0.5 µs each; here a
 * call only adds to a {@link Sample} it found by identity. Series keep their first-seen order,
 * the order prom-client would have listed them in.
 */
export class SampleList<Labels extends object> {
  private readonly samples: Sample<Labels>[] = [];

  /** A new series at 0, listed after the others. */
  add(labels: Labels): Sample<Labels> {
    const sample = { labels, value: 0 };
    this.samples.push(sample);
    return sample;
  }

  /**
   * Makes the metric hold exactly these series, in this order: for a `collect` callback.
   * Public prom-client API only: `reset`, then `inc` (counter) or `set` (gauge) per series.
   */
  feed(metric: Counter<string> | Gauge<string>): void {
    metric.reset();
    for (const { labels, value } of this.samples) {
      if (metric instanceof Gauge) metric.set(labels, value);
      else metric.inc(labels, value);
    }
  }
}

/** One series of a histogram: counts per bucket (not cumulative), sum and count of the values. */
export interface HistogramSample<Labels> {
  readonly labels: Labels;
  /** Values at most `buckets[i]` and above `buckets[i - 1]`; values above the last bound are only counted. */
  readonly counts: number[];
  sum: number;
  count: number;
}

/** prom-client's (15.x) entry of a histogram series: what its `observe` builds in `hashMap`. */
interface PromHistogramEntry {
  labels: object;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

/**
 * The series of one histogram, observed in plain numbers. prom-client has no public way to set
 * a histogram series, so {@link HistogramSamples.feed} writes the entries its `observe` would
 * have built (`metric-series.spec.ts` checks the exposition against `observe`'s, so a
 * prom-client release that changes them fails there, not in production).
 */
export class HistogramSamples<Labels extends object> {
  private readonly samples: HistogramSample<Labels>[] = [];
  /** prom-client's entry of each sample, by index, made on the first scrape after it. */
  private readonly entries: PromHistogramEntry[] = [];
  private readonly zero: Record<string, number> = {};
  /** The bounds as prom-client's entries key them. */
  private readonly keys: readonly string[];

  /** @param buckets - the histogram's upper bounds, ascending (as given to prom-client) */
  constructor(private readonly buckets: readonly number[]) {
    this.keys = buckets.map(String);
    // Entries built as prom-client builds them (copies of one object with every bound): objects
    // of one shape keep its export fast.
    for (const key of this.keys) this.zero[key] = 0;
  }

  /** A new series with no values, listed after the others. */
  add(labels: Labels): HistogramSample<Labels> {
    const sample = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.samples.push(sample);
    return sample;
  }

  /** Adds `value` to `sample`, as prom-client's `observe` does (a value equal to a bound is in its bucket). */
  observe(sample: HistogramSample<Labels>, value: number): void {
    const { buckets } = this;
    sample.sum += value;
    sample.count += 1;
    for (let i = 0; i < buckets.length; i++) {
      if (value <= buckets[i]) {
        sample.counts[i] += 1;
        return;
      }
    }
  }

  /** Makes the histogram hold exactly these series, in this order: for a `collect` callback. */
  feed(metric: Histogram<string>): void {
    metric.reset();
    const hashMap = (metric as unknown as { hashMap: Record<string, PromHistogramEntry> }).hashMap;
    const { keys, samples, entries } = this;
    for (let index = 0; index < samples.length; index++) {
      const { labels, counts, sum, count } = samples[index];
      // One entry per series, kept from scrape to scrape: a scrape makes no garbage of its own.
      const entry = (entries[index] ??= { labels, bucketValues: { ...this.zero }, sum, count });
      for (let i = 0; i < keys.length; i++) entry.bucketValues[keys[i]] = counts[i];
      entry.sum = sum;
      entry.count = count;
      // Any key unique in the map serves: nothing looks series up in it (no `observe` runs).
      // A non-numeric key keeps insertion order.
      hashMap[`s${index}`] = entry;
    }
  }
}
