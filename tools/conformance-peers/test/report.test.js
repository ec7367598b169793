'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { cell, code, renderMarkdown, table } = require('../src/report');
const { cleanMessage } = require('../src/run');

const run = {
  startedAt: new Date('2026-11-27T19:00:00Z'),
  finishedAt: new Date('2026-11-27T19:12:30Z'),
  commit: 'abc1234',
  options: { idleStreamMs: 70_000, stepTimeoutMs: 10_000 },
  machine: {
    description: 'Some CPU, 2 cores, 23 GiB, Linux 6.1',
    loadBefore: [0.5, 1, 1.5],
    loadAfter: [2, 1.25, 1],
  },
  cases: [
    { name: 'empty_unary', description: 'An empty unary call.', slow: false },
    { name: 'idle_stream_stays_open', description: 'A silent stream.', slow: true },
  ],
  peers: [
    {
      id: 'a',
      label: 'peer A',
      version: 'A 1.0',
      results: [
        { name: 'empty_unary', ok: true, ms: 3 },
        { name: 'idle_stream_stays_open', ok: false, ms: 70_000, message: 'it `broke`' },
      ],
    },
    {
      id: 'b',
      label: 'peer B',
      version: 'B 2.0',
      knownDifferences: { empty_unary: 'documented' },
      results: [{ name: 'empty_unary', ok: false, ms: 1, message: 'no' }],
    },
    { id: 'c', label: 'peer C', skipped: 'not installed (apt-get install c)' },
  ],
};

test('table and code spans', () => {
  assert.equal(table(['a', 'b'], [['1', '2']]), '| a | b |\n| --- | --- |\n| 1 | 2 |');
  assert.equal(code('plain'), '`plain`');
  assert.equal(code('with `tick`'), '`` with `tick` ``');
});

test('a cell says passed, failed, failed by design, or not run', () => {
  const [a, b] = run.peers;
  assert.equal(cell(a, 'empty_unary'), '✓');
  assert.equal(cell(a, 'idle_stream_stays_open'), '✗');
  assert.equal(cell(b, 'empty_unary'), '✗ (by design)');
  assert.equal(cell(b, 'idle_stream_stays_open'), '—');
});

test('the page: the run, the table with totals, the failures, skipped peers noted', () => {
  const page = renderMarkdown(run);
  assert.match(page, /^# Conformance of gRPC proxies\n/);
  assert.match(page, /- 2026-11-27 19:00 UTC, 12\.5 minutes, this repository at abc1234\./);
  assert.match(
    page,
    /load average \(1, 5, 15 min\) 0\.50, 1\.00, 1\.50 at the start, 2\.00, 1\.25, 1\.00 at the end/,
  );
  assert.match(page, /- peer C: \*\*not run\*\*, not installed \(apt-get install c\)\n/);
  assert.match(page, /\| case \| peer A \| peer B \|\n/);
  assert.match(page, /\| `empty_unary` \| ✓ \| ✗ \(by design\) \|/);
  assert.match(page, /\| `idle_stream_stays_open` \(slow\) \| ✗ \| — \|/);
  assert.match(page, /\| \*\*passed\*\* \| \*\*1 \/ 2\*\* \| \*\*0 \/ 1\*\* \|/);
  assert.match(
    page,
    /### `idle_stream_stays_open`\n\nA silent stream\.\n\n- \*\*peer A\*\*: `` it `broke` ``/,
  );
  assert.match(page, /- \*\*peer B\*\* \(documented\): `no`/);
});

test('failure messages lose the case name and line breaks, and stay short', () => {
  assert.equal(cleanMessage('x_case', new Error('x_case: a\n  b')), 'a b');
  assert.equal(cleanMessage('x_case', 'plain'), 'plain');
  assert.equal(cleanMessage('x', new Error('y'.repeat(600))).length, 500);
});
