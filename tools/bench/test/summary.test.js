'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { summarizeWorkload } = require('../src/harness');
const { renderMarkdown } = require('../src/report');

const unary = { id: 'unary-100B-c100', title: 'Unary', kind: 'unary', withFloor: true };
const sample = (callsPerSecond, cpuPer10k, extra = {}) => ({
  callsPerSecond,
  p50Ms: 1,
  p99Ms: 2,
  cpuPer10k,
  peakRssBytes: 50 * 1024 * 1024,
  errors: 0,
  ...extra,
});
const rows = [
  {
    row: { id: 'direct', label: 'direct', kind: 'direct' },
    samples: [sample(1000, NaN), sample(1200, NaN), sample(1100, NaN)],
  },
  {
    row: { id: 'grpc-proxy', label: 'grpc-proxy', kind: 'proxy' },
    samples: [sample(500, 0.9), sample(600, 0.8), sample(550, 1.0)],
  },
  {
    row: { id: 'floor-server', label: 'floor server', kind: 'floor' },
    samples: [sample(9000, 0.3), sample(9000, 0.3), sample(9000, 0.3)],
  },
  {
    row: { id: 'floor-client', label: 'floor client', kind: 'floor' },
    samples: [sample(3000, 0.5), sample(3000, 0.5), sample(3000, 0.5)],
  },
];

test('medians, ratios to direct and the floor as the sum of its two halves', () => {
  const workload = summarizeWorkload(unary, rows);
  assert.deepEqual(workload.floor, { server: 0.3, client: 0.5, total: 0.8 });
  const proxy = workload.rows.find((r) => r.id === 'grpc-proxy');
  assert.equal(proxy.figures.callsPerSecond.median, 550);
  assert.equal(proxy.ratios.callsPerSecond, 0.5);
  assert.equal(proxy.figures.cpuPer10k.median, 0.9);
  assert.equal(proxy.ratios.cpuToFloor, 0.9 / 0.8);
  assert.ok(Number.isNaN(workload.rows.find((r) => r.id === 'floor-server').ratios.cpuToFloor));
});

test('failed runs are left out of the figures but reported', () => {
  const withFailure = rows.map((r) =>
    r.row.id === 'grpc-proxy' ? { ...r, samples: [...r.samples, { failed: 'timed out' }] } : r,
  );
  const proxy = summarizeWorkload(unary, withFailure).rows.find((r) => r.id === 'grpc-proxy');
  assert.equal(proxy.figures.callsPerSecond.n, 3);
  assert.deepEqual(proxy.failures, ['timed out']);
});

test('the report shows the Node release, the floor line and the goals with their verdicts', () => {
  const markdown = renderMarkdown({
    mode: 'quick',
    date: '2026-01-01T00:00:00.000Z',
    elapsedSeconds: 10,
    preset: { reps: 3, warmupMs: 1, durationMs: 2 },
    machine: {
      cpuModel: 'cpu',
      cores: 2,
      memoryGiB: 1,
      os: 'os',
      node: '26.12.1',
      loadBefore: ['1'],
      loadAfter: ['2'],
    },
    generator: 'h2load',
    peers: [],
    skipped: [{ label: 'nginx', reason: 'nginx not installed (apt-get install nginx)' }],
    workloads: [summarizeWorkload(unary, rows)],
  });
  assert.match(
    markdown,
    /^Node\.js 26\.12\.1 for every Node process of the run \(backend, proxies, floor, generators\)\.$/m,
  );
  assert.match(markdown, /- nginx: nginx not installed \(apt-get install nginx\)/);
  assert.match(markdown, /server 0\.30 \+ client 0\.50 = \*\*0\.80 s per 10 000 calls\*\*/);
  assert.match(markdown, /\| grpc-proxy \| 550 ±9% \| 0\.50× \|/);
  assert.match(markdown, /\| proxy CPU per unary call ÷ Node floor \| ≤ 1\.15 \| 1\.13× ✅ \|/);
  assert.match(markdown, /\| unary throughput ÷ direct \(100 B × 100\) \| ≥ 0\.5 \| 0\.50× ✅ \|/);
  assert.match(markdown, /\| proxy peak RSS under load \| ≤ 80 MiB \| 50\.0 MiB ✅ \|/);
});
