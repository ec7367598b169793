'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { num, withSpread, withRange, times, table } = require('../src/report');
const { summarize } = require('../src/stats');
const { nginxConfig, haproxyConfig } = require('../src/peer-configs');

test('numbers: grouping above 1000, fixed decimals below, dash when missing', () => {
  assert.equal(num(12345.6), '12,346');
  assert.equal(num(0.456), '0.46');
  assert.equal(num(NaN), '—');
  assert.equal(times(0.534), '0.53×');
  assert.equal(times(undefined), '—');
});

test('median with spread and with range', () => {
  assert.equal(withSpread(summarize([90, 100, 110]), 0), '100 ±10%');
  assert.equal(withSpread(summarize([5]), 1), '5.0');
  assert.equal(withRange(summarize([2048, 1024, 4096]), 1, 1024), '2.0 (1.0–4.0)');
  assert.equal(withSpread(summarize([]), 1), '—');
});

test('markdown table', () => {
  assert.equal(table(['a', 'b'], [['1', '2']]), '| a | b |\n| --- | --- |\n| 1 | 2 |');
});

test('peer configs point at the backend and listen on loopback only', () => {
  const nginx = nginxConfig({
    listenPort: 1234,
    backend: '127.0.0.1:5678',
    dir: '/tmp/x',
    asRoot: false,
  });
  assert.match(nginx, /listen 127\.0\.0\.1:1234 http2;/);
  assert.match(nginx, /server 127\.0\.0\.1:5678;/);
  assert.match(nginx, /grpc_pass grpc:\/\/bench_backend;/);
  assert.doesNotMatch(nginx, /^user /m);
  assert.match(
    nginxConfig({ listenPort: 1, backend: 'b:2', dir: '/d', asRoot: true }),
    /^user root;$/m,
  );
  const haproxy = haproxyConfig({ listenPort: 1234, backend: '127.0.0.1:5678' });
  assert.match(haproxy, /bind 127\.0\.0\.1:1234 proto h2/);
  assert.match(haproxy, /server backend 127\.0\.0\.1:5678 proto h2/);
});
