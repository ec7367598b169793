'use strict';
/**
 * Observer bench: what the command's Prometheus metrics cost per call, in process (no sockets).
 * It calls the metrics' observer `onCallStart`/`onCallEnd` with realistic reports (4 methods,
 * 3 targets, a few status codes, retries now and then) and compares, in the same run:
 *
 * - prom-client: the observer as it was before session 22 (`inc`/`observe` per call, labels
 *   validated and hashed every time), copied below;
 * - grpc-proxy: the command's observer (`createProxyMetrics` in packages/proxy/dist), which
 *   counts in plain numbers and hands them to prom-client when it collects.
 *
 * Then the time of one scrape (`registry.metrics()`, and `getMetricsAsJSON()` as a worker
 * answers its primary) with 1 000 call series. Prints a markdown table.
 *
 *   npx tsc -b packages/proxy/tsconfig.lib.json
 *   node tools/node-matrix/with-node.mjs 26 node tools/bench/src/observer-bench.js [--calls n] [--rounds n]
 *
 * Rounds alternate old and new (default 5 rounds of 200 000 calls each) and the table gives
 * each row's median.
 */
const path = require('node:path');
const { parseArgs } = require('node:util');

const PROXY = path.resolve(__dirname, '..', '..', '..', 'packages', 'proxy');
const { createProxyMetrics, codeName } = require(path.join(PROXY, 'dist', 'metrics.js'));
const promClient = require(require.resolve('prom-client', { paths: [PROXY] }));

/** Scrapes timed per row (after one to warm up). */
const SCRAPES = 20;
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The observer of packages/proxy/src/metrics.ts before session 22, fan-out and mirrors left out. */
function promClientObserver() {
  const { Counter, Gauge, Histogram, Registry } = promClient;
  const registry = new Registry();
  const call = ['grpc_service', 'grpc_method', 'backend', 'target', 'grpc_code'];
  const flow = ['grpc_service', 'grpc_method', 'backend', 'target', 'direction'];
  const method = ['grpc_service', 'grpc_method'];
  const make = (Type, name, labelNames, extra = {}) =>
    new Type({ name, help: name, labelNames, registers: [registry], ...extra });
  const calls = make(Counter, 'calls_total', call);
  const duration = make(Histogram, 'call_duration_seconds', call, { buckets: BUCKETS });
  const inFlight = make(Gauge, 'calls_in_flight', method);
  const messages = make(Counter, 'messages_total', flow);
  const bytes = make(Counter, 'bytes_total', flow);
  const failedInProxy = make(Counter, 'calls_failed_in_proxy_total', call);
  const retries = make(Counter, 'transparent_retries_total', method);
  const methods = new Map();
  const methodLabels = (path) => {
    let labels = methods.get(path);
    if (labels === undefined) {
      const slash = path.indexOf('/', 1);
      labels = { grpc_service: path.slice(1, slash), grpc_method: path.slice(slash + 1) };
      methods.set(path, labels);
    }
    return labels;
  };
  const targets = new Map();
  const observer = {
    onCallStart(info) {
      inFlight.inc(methodLabels(info.method));
    },
    onCallEnd(report) {
      const m = methodLabels(report.method);
      const where = {
        ...m,
        ...(targets.get(report.backend) ?? { backend: report.backend, target: '' }),
      };
      const ended = { ...where, grpc_code: codeName(report.code) };
      inFlight.dec(m);
      calls.inc(ended);
      duration.observe(ended, report.durationMs / 1000);
      messages.inc({ ...where, direction: 'from_client' }, report.messagesFromClient);
      messages.inc({ ...where, direction: 'to_client' }, report.messagesToClient);
      bytes.inc({ ...where, direction: 'from_client' }, report.bytesFromClient);
      bytes.inc({ ...where, direction: 'to_client' }, report.bytesToClient);
      if (report.proxyError) failedInProxy.inc(ended);
      if (report.retries > 0) retries.inc(m, report.retries);
    },
  };
  return {
    registry,
    observer,
    addTarget: (name, backend, target) => targets.set(name, { backend, target }),
  };
}

function commandObserver() {
  return createProxyMetrics({ processMetrics: false });
}

const KINDS = { 'prom-client (before)': promClientObserver, 'grpc-proxy (after)': commandObserver };

/** `count` reports over `methods` methods and `targets` targets, mostly OK. */
function reports(count, methods, targets) {
  const list = [];
  for (let i = 0; i < count; i++) {
    const code = i % 50 === 0 ? 14 : i % 97 === 0 ? 4 : 0;
    list.push({
      method: `/bench.Service${i % methods}/Method${i % 3}`,
      peer: 'ipv4:127.0.0.1:5000',
      startTime: 0,
      backend: `b${i % targets}/10.0.0.${i % targets}:50051`,
      code,
      details: '',
      proxyError: code === 14,
      durationMs: 0.2 + ((i * 7919) % 1000) / 100,
      messagesFromClient: 1,
      messagesToClient: 1,
      bytesFromClient: 100,
      bytesToClient: 100,
      retries: i % 211 === 0 ? 1 : 0,
    });
  }
  return list;
}

function withTargets(kind, count) {
  const metrics = KINDS[kind]();
  for (let t = 0; t < count; t++)
    metrics.addTarget(`b${t}/10.0.0.${t}:50051`, `b${t}`, `10.0.0.${t}:50051`);
  return metrics;
}

/** ns per call (start + end) of `calls` calls cycling through `sample`. */
function perCall(kind, sample, calls) {
  const { observer } = withTargets(kind, 3);
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) {
    const report = sample[i % sample.length];
    observer.onCallStart(report);
    observer.onCallEnd(report);
  }
  return Number(process.hrtime.bigint() - started) / calls;
}

/** ms of one scrape, text and JSON, with `series` call series (method × target × code). */
async function scrape(kind, series) {
  const metrics = withTargets(kind, 10);
  // One call per series: method i % (series / 10), target i / (series / 10), OK.
  const [template] = reports(1, 1, 1);
  for (let i = 0; i < series; i++) {
    const t = Math.floor((i * 10) / series);
    const method = `/bench.Service${i % (series / 10)}/Method`;
    metrics.observer.onCallEnd({ ...template, method, backend: `b${t}/10.0.0.${t}:50051` });
  }
  const time = async (run) => {
    await run(); // warm
    const started = process.hrtime.bigint();
    for (let i = 0; i < SCRAPES; i++) await run();
    return Number(process.hrtime.bigint() - started) / SCRAPES / 1e6;
  };
  return {
    text: await time(() => metrics.registry.metrics()),
    json: await time(() => metrics.registry.getMetricsAsJSON()),
    calls: (await metrics.registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith('calls_total{') || l.startsWith('grpc_proxy_calls_total{'))
      .length,
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '200000' },
      rounds: { type: 'string', default: '5' },
    },
  });
  const calls = Number(values.calls);
  const sample = reports(1000, 4, 3);
  const kinds = Object.keys(KINDS);
  const times = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (const kind of kinds) perCall(kind, sample, calls / 4); // warm up both paths
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const kind of kinds) times[kind].push(perCall(kind, sample, calls));
  }
  const [before, after] = kinds.map((kind) => median(times[kind]));
  console.log(
    `Node.js ${process.version}, ${calls} calls per round, median of ${values.rounds} rounds`,
  );
  console.log('\n| observer | ns per call (start + end) | vs prom-client |');
  console.log('|---|---:|---:|');
  console.log(`| ${kinds[0]} | ${before.toFixed(0)} | 1.00 |`);
  console.log(`| ${kinds[1]} | ${after.toFixed(0)} | ${(after / before).toFixed(3)} |`);
  console.log(
    '\n| observer | 1 000 call series: scrape text (ms) | getMetricsAsJSON (ms) | calls_total series |',
  );
  console.log('|---|---:|---:|---:|');
  for (const kind of kinds) {
    const { text, json, calls } = await scrape(kind, 1000);
    console.log(`| ${kind} | ${text.toFixed(2)} | ${json.toFixed(2)} | ${calls} |`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
