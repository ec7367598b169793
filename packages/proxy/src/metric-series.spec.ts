import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { HistogramSamples, SampleList, type HistogramSample, type Sample } from './metric-series';

type Labels = { a: string; b: string };
const BUCKETS = [0.001, 0.01, 0.1, 1, 2.5];

/** A deterministic pseudo-random sequence (a test that fails must fail again). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * Two registries fed the same updates: `direct` through prom-client's own `inc`/`set`/`observe`,
 * `collected` through the sample lists and `collect`. Their expositions must be identical.
 */
function pair() {
  const direct = new Registry();
  const collected = new Registry();
  const config = (registry: Registry, name: string) => ({
    name,
    help: `${name} help`,
    labelNames: ['a', 'b'] as const,
    registers: [registry],
  });
  const counts = new SampleList<Labels>();
  const gauges = new SampleList<Labels>();
  const durations = new HistogramSamples<Labels>(BUCKETS);
  const metrics = {
    counter: new Counter(config(direct, 'c_total')),
    gauge: new Gauge(config(direct, 'g')),
    histogram: new Histogram({ ...config(direct, 'h_seconds'), buckets: BUCKETS }),
  };
  new Counter({
    ...config(collected, 'c_total'),
    collect() {
      counts.feed(this);
    },
  });
  new Gauge({
    ...config(collected, 'g'),
    collect() {
      gauges.feed(this);
    },
  });
  new Histogram({
    ...config(collected, 'h_seconds'),
    buckets: BUCKETS,
    collect() {
      durations.feed(this);
    },
  });
  const found = {
    counts: new Map<string, Sample<Labels>>(),
    gauges: new Map<string, Sample<Labels>>(),
    durations: new Map<string, HistogramSample<Labels>>(),
  };
  return { direct, collected, metrics, counts, gauges, durations, found };
}

/** Applies `n` random updates to both sides of a {@link pair}. */
function update(sides: ReturnType<typeof pair>, n: number, next: () => number) {
  const { found } = sides;
  const of = <S>(map: Map<string, S>, labels: Labels, add: (labels: Labels) => S) => {
    const key = `${labels.a}/${labels.b}`;
    if (!map.has(key)) map.set(key, add(labels));
    return map.get(key)!;
  };
  const values = [0, 0.001, 0.0005, 0.01, 0.05, 1, 2.5, 2.6, 30];
  for (let i = 0; i < n; i++) {
    const labels = { a: `a${Math.floor(next() * 3)}`, b: `b"\\\n${Math.floor(next() * 4)}` };
    const count = Math.floor(next() * 3);
    sides.metrics.counter.inc(labels, count);
    of(found.counts, labels, (l) => sides.counts.add(l)).value += count;
    const delta = next() < 0.5 ? 1 : -1;
    sides.metrics.gauge.inc(labels, delta);
    of(found.gauges, labels, (l) => sides.gauges.add(l)).value += delta;
    // Half exactly on a bound (counted in that bound's bucket).
    const value = values[Math.floor(next() * values.length)] + (next() < 0.5 ? 0 : next() / 1000);
    sides.metrics.histogram.observe(labels, value);
    sides.durations.observe(
      of(found.durations, labels, (l) => sides.durations.add(l)),
      value,
    );
  }
}

describe('SampleList and HistogramSamples', () => {
  it('expose exactly what prom-client exposes when fed directly, in text and in JSON', async () => {
    const sides = pair();
    update(sides, 500, random(7));
    const text = await sides.direct.metrics();
    expect(text).toContain('h_seconds_bucket{le="+Inf"');
    expect(await sides.collected.metrics()).toBe(text);
    expect(await sides.collected.getMetricsAsJSON()).toEqual(await sides.direct.getMetricsAsJSON());
    // A second scrape and more counting after it stay identical.
    expect(await sides.collected.metrics()).toBe(text);
    update(sides, 100, random(11));
    expect(await sides.collected.metrics()).toBe(await sides.direct.metrics());
  });

  it('aggregate across workers as prom-client series do', async () => {
    const one = pair();
    const two = pair();
    update(one, 200, random(3));
    update(two, 200, random(5));
    const aggregate = async (registries: Registry[]) =>
      AggregatorRegistry.aggregate(
        await Promise.all(registries.map((registry) => registry.getMetricsAsJSON())),
      ).metrics();
    expect(await aggregate([one.collected, two.collected])).toBe(
      await aggregate([one.direct, two.direct]),
    );
  });

  it('list nothing before the first series', async () => {
    const sides = pair();
    expect(await sides.collected.metrics()).toBe(await sides.direct.metrics());
  });
});
