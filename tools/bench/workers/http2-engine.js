'use strict';
/**
 * The http2 engine alone, for A/B comparisons of its builds (src/engine-ab.js): the
 * `createHttp2Proxy` of the `@grpc-proxy/http2` build in <dist> (a `dist/` directory, or a copy
 * of one), routing every call to <backend> through `roundRobin([createBackend(backend)])`, with
 * the command's metrics observer (`createProxyMetrics`). Prints `READY <port>`.
 *
 * On SIGUSR2 it prints `MEASURE <n> <allocated bytes> <calls ended> <heap used> <rss>`: V8's
 * total allocated bytes so far, the calls its observer saw end, and (after two full GCs when run
 * with --expose-gc) the JS heap in use and the RSS. Ends with exit code 0 on SIGTERM.
 *
 * Usage: node [--expose-gc] http2-engine.js <dist> <backend host:port>
 */
const path = require('node:path');
const v8 = require('node:v8');

const [dist, backendAddress] = process.argv.slice(2);
const repoRoot = path.resolve(__dirname, '..', '..', '..');
const { createHttp2Proxy } = require(path.resolve(dist, 'index.js'));
const { createBackend, roundRobin } = require(path.join(repoRoot, 'packages', 'director'));
const { createProxyMetrics } = require(path.join(repoRoot, 'packages', 'proxy'));

const metrics = createProxyMetrics();
let ended = 0;
const observer = {
  onCallStart: (info) => metrics.observer.onCallStart(info),
  onCallEnd: (report) => {
    ended += 1;
    metrics.observer.onCallEnd(report);
  },
};
const director = roundRobin([createBackend(backendAddress)]);
const proxy = createHttp2Proxy({ director, observer, maxConcurrentStreams: 4096 });

let measures = 0;
process.on('SIGUSR2', () => {
  const allocated = v8.getHeapStatistics().total_allocated_bytes;
  if (global.gc) {
    global.gc();
    global.gc();
  }
  const { heapUsed, rss } = process.memoryUsage();
  measures += 1;
  console.log(`MEASURE ${measures} ${allocated} ${ended} ${heapUsed} ${rss}`);
});
process.once('SIGTERM', () => {
  proxy.close(1000).then(() => process.exit(0));
});
proxy.listen('127.0.0.1:0').then((address) => console.log(`READY ${address.split(':').pop()}`));
