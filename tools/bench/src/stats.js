'use strict';
/**
 * Small, deterministic statistics helpers used by the workers (latency percentiles) and by the
 * report (medians and spread across repetitions).
 */

/** Median of a list of numbers (mean of the two middle values for even lengths); NaN if empty. */
function median(values) {
  const sorted = finiteSorted(values);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Percentile by the nearest-rank method: the smallest value such that at least `p` percent of
 * the values are at or below it. `p` is in [0, 100]. NaN if empty.
 */
function percentile(values, p) {
  const sorted = finiteSorted(values);
  return percentileOfSorted(sorted, p);
}

/** Same as {@link percentile} for an already ascending array (avoids re-sorting large arrays). */
function percentileOfSorted(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Latency summary (p50, p99, max, mean, count) of raw samples, in the samples' unit. */
function latencySummary(samples) {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

/**
 * Median and spread of one figure across repetitions. `spread` is half the min-max range as a
 * fraction of the median (0.03 means ±3 %), the honest "how noisy was this" number for 3-5 reps.
 */
function summarize(values) {
  const finite = finiteSorted(values);
  const med = median(finite);
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, spread: NaN, n: 0 };
  const min = finite[0];
  const max = finite[finite.length - 1];
  const spread = med === 0 ? 0 : (max - min) / 2 / Math.abs(med);
  return { median: med, min, max, spread, n: finite.length };
}

/** `value / reference`, or NaN when either is missing or the reference is zero. */
function ratio(value, reference) {
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference === 0) return NaN;
  return value / reference;
}

function finiteSorted(values) {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
}

module.exports = { median, percentile, percentileOfSorted, latencySummary, summarize, ratio };
