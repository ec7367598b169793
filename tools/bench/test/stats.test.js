'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { median, percentile, latencySummary, summarize, ratio } = require('../src/stats');

test('median of odd and even lists, ignoring non-finite values', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([5, NaN, undefined, 1]), 3);
  assert.ok(Number.isNaN(median([])));
});

test('percentile uses nearest rank', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(hundred, 50), 50);
  assert.equal(percentile(hundred, 99), 99);
  assert.equal(percentile(hundred, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([1, 2], 0), 1);
});

test('latencySummary sorts numerically, not as strings', () => {
  const summary = latencySummary([10, 9, 100, 2]);
  assert.deepEqual(summary, { count: 4, p50: 9, p99: 100, max: 100, mean: 30.25 });
});

test('summarize reports median and half-range spread', () => {
  assert.deepEqual(summarize([90, 100, 110]), {
    median: 100,
    min: 90,
    max: 110,
    spread: 0.1,
    n: 3,
  });
  assert.deepEqual(summarize([NaN]), { median: NaN, min: NaN, max: NaN, spread: NaN, n: 0 });
});

test('ratio is NaN when either side is missing or the reference is zero', () => {
  assert.equal(ratio(50, 100), 0.5);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(NaN, 1)));
  assert.ok(Number.isNaN(ratio(1, undefined)));
});
