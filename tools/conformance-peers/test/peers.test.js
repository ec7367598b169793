'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { freePort } = require('@grpc-proxy/bench/src/processes');
const { peerDefinitions, startListening } = require('../src/peers');

test('a peer that listens is started, reachable, and stopped', async () => {
  const port = await freePort();
  const script = `require('node:net').createServer().listen(${port}, '127.0.0.1')`;
  const peer = await startListening('listener', process.execPath, ['-e', script], port);
  assert.equal(peer.address, `127.0.0.1:${port}`);
  assert.deepEqual(await peer.stop(), { code: null, signal: 'SIGTERM' });
});

test('a peer that exits before listening fails its start, and nothing is left polling', async () => {
  const port = await freePort();
  await assert.rejects(
    startListening('quitter', process.execPath, ['-e', 'process.exit(3)'], port),
    new RegExp(
      `^Error: quitter exited \\(3\\) while waiting for port ${port} to accept connections$`,
    ),
  );
  // node --test would wait here for a leaked poll loop: the test file would never end.
});

test('every peer in table order, this project with both engines', () => {
  const ids = peerDefinitions({ repoRoot: '/nonexistent' }).map((peer) => peer.id);
  assert.deepEqual(ids, [
    'direct',
    'grpc-proxy-grpc-js',
    'grpc-proxy-http2',
    'nginx',
    'haproxy',
    'caddy',
  ]);
});
