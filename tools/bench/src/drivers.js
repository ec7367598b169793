'use strict';
/**
 * Load drivers. Each runs in its own process (never inside the proxy), is bounded in time, and
 * calls `hooks.onStart()` / `hooks.onEnd()` at the edges of its measured window so the bench can
 * sample the proxy's CPU over exactly that window. All resolve with
 * `{ calls, seconds, callsPerSecond, latencyMs: { p50, p99, ... }, errors, firstError, cpuSeconds? }`.
 */
const fs = require('node:fs');
const path = require('node:path');
const { ManagedProcess } = require('./processes');
const { encodeMessage } = require('@grpc-proxy/codec');
const { patternPayload } = require('@grpc-proxy/testing');
const { UNARY_PATH } = require('./bench-service');
const { latencySummary } = require('./stats');

const WORKERS = path.join(__dirname, '..', 'workers');
/** Extra time a run may take beyond warm-up + window before it is killed. */
const GRACE_MS = 20_000;

/** Runs a worker that announces `WINDOW start|end` and ends with `RESULT <json>`. */
async function runWindowedWorker(name, script, options, hooks) {
  const worker = new ManagedProcess(name, process.execPath, [
    path.join(WORKERS, script),
    JSON.stringify(options),
  ]);
  const budget = (options.warmupMs ?? 0) + (options.durationMs ?? 0) + GRACE_MS;
  try {
    worker.waitForLine(/^WINDOW start$/, budget).then(hooks.onStart, () => {});
    worker.waitForLine(/^WINDOW end$/, budget).then(hooks.onEnd, () => {});
    const [, json] = await worker.waitForLine(/^RESULT (.*)$/, budget, 'RESULT');
    return JSON.parse(json);
  } finally {
    await worker.stop(1000);
  }
}

/** The built-in grpc-js generator: `unary` or `stream` mode (see workers/grpc-loadgen.js). */
function runGrpcLoadgen(options, hooks) {
  return runWindowedWorker('grpc-js load generator', 'grpc-loadgen.js', options, hooks);
}

/** The bare node:http2 client (client half of the floor); reports its own CPU. */
function runFloorClient(options, hooks) {
  return runWindowedWorker('node:http2 floor client', 'h2-floor-client.js', options, hooks);
}

/** A correctness probe through a target: byte-exact 1 KiB and 64 KiB unary echoes and a stream. */
async function checkTarget(target) {
  const result = await runGrpcLoadgen({ mode: 'check', target }, { onStart() {}, onEnd() {} });
  if (!result.ok) throw new Error(result.firstError ?? 'check failed');
}

/**
 * Opens `streams` idle streams through `target`, calls `onOpen()` while they are all open, then
 * closes them. Resolves with `{ streams, openMs, errors, firstError }`.
 */
async function runIdleStreams({ target, streams }, onOpen) {
  const options = { mode: 'idle', target, streams };
  const worker = new ManagedProcess(
    'grpc-js idle streams',
    process.execPath,
    [path.join(WORKERS, 'grpc-loadgen.js'), JSON.stringify(options)],
    { stdin: 'pipe' },
  );
  try {
    const opened = await Promise.race([
      worker.waitForLine(/^OPEN /, 30_000, 'streams to open'),
      worker.waitForLine(/^RESULT (.*)$/, 30_000, 'RESULT'),
    ]);
    if (opened[0].startsWith('RESULT')) return JSON.parse(opened[1]);
    await onOpen();
    worker.child.stdin.end('close\n');
    const [, json] = await worker.waitForLine(/^RESULT (.*)$/, 30_000, 'RESULT');
    return JSON.parse(json);
  } finally {
    await worker.stop(1000);
  }
}

/**
 * h2load driving unary gRPC calls: one connection, `concurrency` streams, POST of a framed
 * payload with gRPC headers, for a fixed duration; a separate warm-up run first. Latencies come
 * from h2load's per-request log. Note h2load sees HTTP status only, not grpc-status: every target
 * passes `checkTarget` before it is loaded.
 */
async function runH2load(
  { h2load, target, payload, concurrency, warmupMs, durationMs, tmpDir },
  hooks,
) {
  const body = path.join(tmpDir, `request-${payload}.bin`);
  if (!fs.existsSync(body)) fs.writeFileSync(body, encodeMessage(patternPayload(payload)));
  const log = path.join(tmpDir, 'h2load-requests.log');
  const args = (ms) => [
    '-c',
    '1',
    '-m',
    String(concurrency),
    '-D',
    `${Math.max(100, Math.round(ms))}ms`,
    '-d',
    body,
    '-H',
    'content-type: application/grpc',
    '-H',
    'te: trailers',
    `http://${target}${UNARY_PATH}`,
  ];
  if (warmupMs > 0) await runH2loadOnce(h2load, args(warmupMs), warmupMs);
  hooks.onStart();
  const output = await runH2loadOnce(
    h2load,
    [...args(durationMs), `--log-file=${log}`],
    durationMs,
  );
  hooks.onEnd();
  const summary = parseH2loadOutput(output);
  const latencies = parseH2loadLog(fs.readFileSync(log, 'utf8'));
  fs.rmSync(log, { force: true });
  const failed = summary.failed + summary.errored + summary.timeout;
  return {
    calls: summary.succeeded,
    seconds: summary.seconds,
    callsPerSecond: summary.succeeded / summary.seconds,
    latencyMs: latencySummary(latencies),
    errors: failed,
    firstError: failed ? `h2load: ${failed} failed/errored/timed out` : undefined,
  };
}

async function runH2loadOnce(h2load, args, durationMs) {
  const run = new ManagedProcess('h2load', h2load, args);
  const output = [];
  run.child.stdout.on('data', (chunk) => output.push(chunk));
  const { code, signal } = await run.deadline(
    run.exited,
    durationMs + GRACE_MS,
    'h2load to finish',
  );
  const text = Buffer.concat(output).toString();
  if (code !== 0) throw run.failure(`failed (${signal ?? code}): ${text.slice(-500)}`);
  return text;
}

/** Parses h2load's summary: the `finished in` and `requests:` lines. */
function parseH2loadOutput(text) {
  const finished = /finished in ([\d.]+)(ms|s),/.exec(text);
  const requests =
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      text,
    );
  if (!finished || !requests) throw new Error(`unrecognised h2load output: ${text.slice(-300)}`);
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  const [, total, started, done, succeeded, failed, errored, timeout] = requests.map(Number);
  return { seconds, total, started, done, succeeded, failed, errored, timeout };
}

/** Latencies in ms from h2load's `--log-file` (start µs, HTTP status, duration µs per line). */
function parseH2loadLog(text) {
  const latencies = [];
  for (const line of text.split('\n')) {
    const columns = line.split('\t');
    const status = Number(columns[1]);
    if (columns.length >= 3 && status >= 200 && status < 300)
      latencies.push(Number(columns[2]) / 1000);
  }
  return latencies;
}

module.exports = {
  runGrpcLoadgen,
  runFloorClient,
  runH2load,
  runIdleStreams,
  checkTarget,
  parseH2loadOutput,
  parseH2loadLog,
};
