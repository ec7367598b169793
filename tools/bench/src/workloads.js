'use strict';
/**
 * The workloads and the two run presets. Every load run is bounded: warm-up + window + a grace
 * period, after which the generator is killed.
 */

/** @type {Array<object>} in table order */
const workloads = [
  {
    id: 'unary-100B-c100',
    title: 'Unary, 100 B messages, 100 concurrent calls',
    kind: 'unary',
    payload: 100,
    concurrency: 100,
    withFloor: true,
  },
  {
    id: 'unary-1KiB-seq',
    title: 'Unary, 1 KiB messages, sequential (one call at a time: latency)',
    kind: 'unary',
    payload: 1024,
    concurrency: 1,
  },
  {
    id: 'bidi-100B',
    title: 'Bidi stream, 100 B messages (64 in flight on one stream)',
    kind: 'stream',
    payload: 100,
    window: 64,
  },
  {
    id: 'bidi-64KiB',
    title: 'Bidi stream, 64 KiB messages (8 in flight on one stream)',
    kind: 'stream',
    payload: 64 * 1024,
    window: 8,
  },
  {
    id: 'idle-1000',
    title: '1 000 concurrent idle bidi streams (memory per stream)',
    kind: 'idle',
    streams: 1000,
  },
];

/** Run presets: `quick` must finish in under two minutes on a 2-core machine. */
const presets = {
  quick: { reps: 3, warmupMs: 250, durationMs: 600, profileMs: 1500 },
  full: { reps: 5, warmupMs: 1000, durationMs: 4000, profileMs: 8000 },
};

module.exports = { workloads, presets };
