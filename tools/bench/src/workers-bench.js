'use strict';
/**
 * Workers bench (issue 15): the `grpc-proxy` command with `--workers 1` and `--workers 2`, on
 * each engine, under h2load with several connections (node:cluster hands each connection to one
 * worker, so one connection could never use two). The backend is the bench's grpc-js echo
 * backend (the node:http2 floor server cannot be used: it crashes on a stream the proxy resets
 * when h2load stops), on the same cores: on a 2-core machine the gain shows what a second core
 * left over by the backend and h2load gives. Prints one table (calls per second, the proxy's CPU in cores, the gain over one worker)
 * and the machine's load.
 *
 *   node tools/bench/src/workers-bench.js [--quick] [--duration ms] [--rounds n]
 *     [--connections n] [--streams n] [--payload bytes] [--engines grpc-js,http2]
 *
 * Rows are measured in rounds, one worker then two, again and again (default 3 rounds), and the
 * table gives each row's median: a machine shared with other work drifts less between
 * neighbours than from the start of the run to its end.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const grpc = require('@grpc/grpc-js');
const { encodeMessage } = require('@grpc-proxy/codec');
const { callRawUnary, patternPayload } = require('@grpc-proxy/testing');
const { UNARY_PATH } = require('./bench-service');
const { parseH2loadOutput } = require('./drivers');
const { ManagedProcess, freePort, killAll } = require('./processes');
const { treeCpuSeconds } = require('./proc-stats');
const { findExecutable, startNodeWorker } = require('./targets');

const REPO = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(REPO, 'packages', 'proxy', 'dist', 'cli.js');
const START_TIMEOUT_MS = 20_000;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '8' },
      streams: { type: 'string', default: '32' },
      payload: { type: 'string', default: '1024' },
      engines: { type: 'string', default: 'grpc-js,http2' },
    },
  });
  return {
    durationMs: Number(values.duration ?? (values.quick ? 3000 : 8000)),
    rounds: Number(values.rounds),
    warmupMs: values.quick ? 500 : 1000,
    connections: Number(values.connections),
    streams: Number(values.streams),
    payload: Number(values.payload),
    engines: values.engines.split(','),
  };
}

/** h2load: `connections` connections of `streams` concurrent unary calls each, for `ms`. */
async function h2load(binary, target, body, run, ms) {
  const args = [
    ...['-c', String(run.connections), '-m', String(run.streams), '-D', `${ms}ms`],
    ...['-d', body, '-H', 'content-type: application/grpc', '-H', 'te: trailers'],
    `http://${target}${UNARY_PATH}`,
  ];
  const process_ = new ManagedProcess('h2load', binary, args);
  const output = [];
  process_.child.stdout.on('data', (chunk) => output.push(chunk));
  const { code } = await process_.deadline(process_.exited, ms + 20_000, 'h2load to finish');
  const text = Buffer.concat(output).toString();
  if (code !== 0) throw new Error(`h2load failed: ${text.slice(-500)}`);
  return parseH2loadOutput(text);
}

/**
 * One unary call through `target`, echoed byte for byte (h2load sees HTTP statuses only, and a
 * proxy answers its own failures with HTTP 200 and a grpc-status).
 */
async function checkUnary(target, payload) {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  try {
    const request = patternPayload(payload);
    const outcome = await callRawUnary(client, UNARY_PATH, request);
    if (outcome.status.code !== grpc.status.OK || !outcome.responses[0]?.equals(request)) {
      throw new Error(`check through ${target} failed: ${outcome.status.details}`);
    }
  } finally {
    client.close();
  }
}

/** One row: the command with `workers` workers on `engine`, loaded by h2load. */
async function measure(engine, workers, ctx) {
  const port = await freePort();
  const proxy = new ManagedProcess('grpc-proxy', process.execPath, [
    CLI,
    ...['--listen', `127.0.0.1:${port}`, '--backend', ctx.backend, '--engine', engine],
    ...['--workers', String(workers), '--max-concurrent-streams', '4096', '--log-level', 'warn'],
  ]);
  try {
    await proxy.waitForPort(port, START_TIMEOUT_MS);
    const target = `127.0.0.1:${port}`;
    await checkUnary(target, ctx.run.payload);
    await h2load(ctx.h2load, target, ctx.body, ctx.run, ctx.run.warmupMs);
    const cpuBefore = treeCpuSeconds(proxy.pid);
    const summary = await h2load(ctx.h2load, target, ctx.body, ctx.run, ctx.run.durationMs);
    const cpu = treeCpuSeconds(proxy.pid) - cpuBefore;
    const failed = summary.failed + summary.errored + summary.timeout;
    return {
      engine,
      workers,
      callsPerSecond: summary.succeeded / summary.seconds,
      cores: cpu / summary.seconds,
      failed,
    };
  } finally {
    await proxy.stop(15_000);
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** One row per engine and worker count: the medians of its rounds, and every failure. */
function medians(rows) {
  const keys = [...new Set(rows.map((row) => `${row.engine} ${row.workers}`))];
  return keys.map((key) => {
    const same = rows.filter((row) => `${row.engine} ${row.workers}` === key);
    return {
      ...same[0],
      callsPerSecond: median(same.map((row) => row.callsPerSecond)),
      cores: median(same.map((row) => row.cores)),
      failed: same.reduce((sum, row) => sum + row.failed, 0),
      rounds: same.map((row) => Math.round(row.callsPerSecond)).join(', '),
    };
  });
}

function table(rows) {
  const lines = [
    '| engine | workers | calls/s (median) | each round | proxy CPU (cores) | vs 1 worker | failed |',
    '| ------ | ------: | ---------------: | ---------- | ----------------: | ----------: | -----: |',
  ];
  for (const row of rows) {
    const one = rows.find((each) => each.engine === row.engine && each.workers === 1);
    const gain = one ? `${(row.callsPerSecond / one.callsPerSecond).toFixed(2)}x` : '—';
    lines.push(
      `| ${row.engine} | ${row.workers} | ${Math.round(row.callsPerSecond)} | ${row.rounds} | ` +
        `${row.cores.toFixed(2)} | ${gain} | ${row.failed} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  const run = options();
  const binary = findExecutable('h2load');
  if (!binary) throw new Error('h2load is not installed (Debian: nghttp2-client)');
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-workers-'));
  const body = path.join(tmpDir, 'request.bin');
  fs.writeFileSync(body, encodeMessage(patternPayload(run.payload)));
  const uptimeBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const backend = await startNodeWorker('echo backend', 'echo-backend.js', []);
  const rows = [];
  try {
    const ctx = { backend: backend.address, h2load: binary, body, run };
    for (let round = 0; round < run.rounds; round++) {
      for (const engine of run.engines) {
        for (const workers of [1, 2]) rows.push(await measure(engine, workers, ctx));
      }
    }
  } finally {
    await backend.managed.stop();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  const uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  process.stdout.write(
    `Node ${process.version}, ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? '?'}); ` +
      `h2load -c ${run.connections} -m ${run.streams}, ${run.payload} B unary, ` +
      `${run.warmupMs} ms warm-up, ${run.durationMs} ms measured, ${run.rounds} rounds; backend: the bench's grpc-js echo\n` +
      `uptime before the run: ${uptimeBefore}\nuptime after the run:  ${uptime}\n\n${table(medians(rows))}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`workers bench: ${error.stack ?? error}\n`);
  killAll();
  process.exitCode = 1;
});
