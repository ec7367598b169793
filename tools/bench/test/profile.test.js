'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { summarizeProfile, categoryOf, shortUrl } = require('../src/profile');

const frame = (functionName, url = '', lineNumber = -1) => ({
  functionName,
  url,
  lineNumber,
  scriptId: '0',
  columnNumber: -1,
});

// Node 2 and 4 are the same function reached through two call paths: self time must be summed.
const PROFILE = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    {
      id: 2,
      callFrame: frame('write', 'file:///r/node_modules/@grpc/grpc-js/build/src/call.js', 9),
    },
    { id: 3, callFrame: frame('(idle)') },
    {
      id: 4,
      callFrame: frame('write', 'file:///r/node_modules/@grpc/grpc-js/build/src/call.js', 9),
    },
    { id: 5, callFrame: frame('(garbage collector)') },
  ],
  startTime: 1000,
  endTime: 1100,
  samples: [2, 3, 4, 5, 2],
  timeDeltas: [0, 10, 20, 30, 10],
};

test('sums self time per function across call paths and leaves idle out of the busy total', () => {
  const summary = summarizeProfile(PROFILE, { calls: 5 });
  assert.equal(summary.idleMs, 0.02);
  assert.equal(summary.busyMs, 0.08);
  assert.deepEqual(
    summary.functions.map((f) => [f.functionName, f.location, f.selfMs, f.percent, f.usPerCall]),
    [
      ['write', '@grpc/grpc-js/build/src/call.js:10', 0.07, 87.5, 14],
      ['(garbage collector)', '', 0.01, 12.5, 2],
    ],
  );
  assert.deepEqual(
    summary.categories.map((c) => c.category),
    ['grpc-js', 'garbage collector'],
  );
});

test('a window keeps only the samples taken inside it', () => {
  const summary = summarizeProfile(PROFILE, { windowUs: [1025, 1065], calls: 1 });
  assert.equal(summary.windowed, true);
  // samples at 1030 (write, owns 30 µs) and 1060 (GC, owns 10 µs); 1000, 1010 and 1070 are outside
  assert.equal(summary.busyMs, 0.04);
  assert.equal(summary.idleMs, 0);
});

test('categories and short locations name the layer', () => {
  assert.equal(
    categoryOf('onData', 'file:///w/packages/handler/dist/proxied-call.js'),
    'grpc-proxy (handler)',
  );
  assert.equal(categoryOf('write', 'node:internal/http2/core'), 'node:http2 (JS side)');
  assert.equal(categoryOf('x', 'file:///w/node_modules/pino/lib/x.js'), 'dependency (pino)');
  assert.equal(categoryOf('(program)', ''), 'V8/native (program)');
  assert.equal(shortUrl('file:///w/packages/handler/dist/a.js', 0), 'packages/handler/dist/a.js:1');
  assert.equal(shortUrl('node:internal/http2/core', 99), 'node:internal/http2/core:100');
});
