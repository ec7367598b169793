#!/usr/bin/env node
'use strict';
/**
 * A/B of builds of the http2 engine (workers/http2-engine.js), interleaved in one run against the
 * same backend, for changes too small for the quick bench on a shared machine. Per build: CPU
 * per call from /proc and **bytes allocated per call** (V8's total, over the measured window);
 * with the node:http2 floor (server + client) measured in the same rotation. `--idle`: the JS
 * heap per idle bidi stream instead (after full GCs, 1 000 streams open). `--bidi`: 64 KiB
 * messages, 8 in flight on one stream, CPU per message.
 *
 *   node tools/bench/src/engine-ab.js [--secs 3] [--reps 5] [--bidi | --idle] <dist>[|<node flags>]...
 *
 * A <dist> is a `dist/` of `@grpc-proxy/http2` or a copy of one (copy the old build aside before
 * rebuilding: `cp -r packages/http2/dist packages/http2/out-tsc/before`); after `|`, Node flags
 * for that build's process (`'packages/http2/dist|--max-semi-space-size=4'`).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ManagedProcess, killAll } = require('./processes');
const {
  checkTarget,
  runFloorClient,
  runGrpcLoadgen,
  runH2load,
  runIdleStreams,
} = require('./drivers');
const { findExecutable } = require('./targets');

const WORKERS = path.join(__dirname, '..', 'workers');
const START_TIMEOUT_MS = 15_000;

function parse(argv) {
  const options = { secs: 3, reps: 5, mode: 'unary', builds: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--secs') options.secs = Number(argv[++i]);
    else if (argv[i] === '--reps') options.reps = Number(argv[++i]);
    else if (argv[i] === '--bidi') options.mode = 'bidi';
    else if (argv[i] === '--idle') options.mode = 'idle';
    else options.builds.push(argv[i]);
  }
  if (options.builds.length === 0 || !(options.secs > 0) || !(options.reps > 0)) {
    throw new Error(
      'usage: engine-ab.js [--secs S] [--reps N] [--bidi | --idle] <dist>[|<node flags>]...',
    );
  }
  return options;
}

/** utime + stime of `pid`, in seconds. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startWorker(name, args, flags = []) {
  const managed = new ManagedProcess(name, process.execPath, [...flags, ...args]);
  const [, port] = await managed.waitForLine(/^READY (\d+)$/, START_TIMEOUT_MS, 'READY');
  return { managed, address: `127.0.0.1:${port}` };
}

/** One engine build's process, and a way to read its MEASURE line. */
async function startBuild(spec, backend, idle) {
  const [dist, flagText] = spec.split('|');
  const flags = [...(flagText ? flagText.split(' ') : []), ...(idle ? ['--expose-gc'] : [])];
  const started = await startWorker(
    'http2 engine',
    [path.join(WORKERS, 'http2-engine.js'), path.resolve(dist), backend.address],
    flags,
  );
  let count = 0;
  const measure = async () => {
    count += 1;
    process.kill(started.managed.pid, 'SIGUSR2');
    const pattern = new RegExp(`^MEASURE ${count} (\\d+) (\\d+) (\\d+) (\\d+)$`);
    const [, allocated, calls, heap, rss] = await started.managed.waitForLine(pattern, 5000);
    return { allocated: +allocated, calls: +calls, heap: +heap, rss: +rss };
  };
  return { ...started, spec, measure, runs: [] };
}

const median = (values) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function main() {
  const options = parse(process.argv.slice(2));
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'engine-ab-'));
  const h2load = findExecutable('h2load');
  if (options.mode === 'unary' && !h2load) throw new Error('h2load not installed');
  const backend = await startWorker('echo backend', [path.join(WORKERS, 'echo-backend.js')]);
  const floor =
    options.mode === 'unary'
      ? await startWorker('floor server', [path.join(WORKERS, 'h2-floor-server.js')])
      : undefined;
  const builds = [];
  for (const spec of options.builds)
    builds.push(await startBuild(spec, backend, options.mode === 'idle'));
  const windowMs = options.secs * 1000;
  const unary = (target, pid, hooks = {}) =>
    runH2load(
      {
        h2load,
        target,
        payload: 100,
        concurrency: 100,
        warmupMs: 200,
        durationMs: windowMs,
        tmpDir,
      },
      { onStart: hooks.onStart ?? (() => {}), onEnd: hooks.onEnd ?? (() => {}) },
    );
  const load = async (build) => {
    if (options.mode === 'idle') {
      const before = await build.measure();
      let open;
      await runIdleStreams({ target: build.address, streams: 1000 }, async () => {
        open = await build.measure();
      });
      return { heapPerStream: (open.heap - before.heap) / 1000 };
    }
    let cpu0 = 0;
    let cpu = 0;
    let at0;
    let at1;
    const hooks = {
      onStart: () => (cpu0 = cpuSeconds(build.managed.pid)),
      onEnd: () => (cpu = cpuSeconds(build.managed.pid) - cpu0),
    };
    at0 = await build.measure();
    const result =
      options.mode === 'bidi'
        ? await runGrpcLoadgen(
            {
              target: build.address,
              mode: 'stream',
              window: 8,
              payload: 65536,
              warmupMs: 300,
              durationMs: windowMs,
            },
            hooks,
          )
        : await unary(build.address, build.managed.pid, hooks);
    at1 = await build.measure();
    return {
      rate: result.callsPerSecond,
      cpuUs: (cpu / result.calls) * 1e6,
      allocated:
        options.mode === 'unary' ? (at1.allocated - at0.allocated) / (at1.calls - at0.calls) : NaN,
    };
  };
  // JIT warm-up of every build before anything is measured.
  for (const build of builds) {
    await checkTarget(build.address);
    if (options.mode === 'unary') await unary(build.address, 0);
  }
  const floorServer = [];
  const floorClient = [];
  for (let rep = 0; rep < options.reps; rep++) {
    const order = builds.map((_, i) => builds[(i + rep) % builds.length]);
    for (const build of order) build.runs.push(await load(build));
    if (floor) {
      let cpu0 = 0;
      let cpu = 0;
      const served = await unary(floor.address, floor.managed.pid, {
        onStart: () => (cpu0 = cpuSeconds(floor.managed.pid)),
        onEnd: () => (cpu = cpuSeconds(floor.managed.pid) - cpu0),
      });
      floorServer.push((cpu / served.calls) * 1e6);
      const client = await runFloorClient(
        {
          target: floor.address,
          payload: 100,
          concurrency: 100,
          warmupMs: 200,
          durationMs: windowMs,
        },
        { onStart: () => {}, onEnd: () => {} },
      );
      floorClient.push((client.cpuSeconds / client.calls) * 1e6);
    }
  }
  const floorUs = median(floorServer) + median(floorClient);
  console.log(
    `${options.mode}, ${options.reps} × ${options.secs} s, load average ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  if (floor)
    console.log(
      `floor: ${floorUs.toFixed(1)} µs per call (server ${median(floorServer).toFixed(1)} + client ${median(floorClient).toFixed(1)})`,
    );
  for (const build of builds) {
    const runs = build.runs;
    if (options.mode === 'idle') {
      const kib = runs.map((r) => (r.heapPerStream / 1024).toFixed(2));
      console.log(`${build.spec}: JS heap per idle stream ${kib.join(', ')} KiB`);
      continue;
    }
    const cpuUs = median(runs.map((r) => r.cpuUs));
    const unit = options.mode === 'bidi' ? 'message' : 'call';
    const parts = [
      `${cpuUs.toFixed(1)} µs CPU per ${unit} [${runs.map((r) => r.cpuUs.toFixed(0)).join(' ')}]`,
      floor ? `${(cpuUs / floorUs).toFixed(2)}× floor` : undefined,
      `${median(runs.map((r) => r.rate)).toFixed(0)}/s`,
      options.mode === 'unary'
        ? `${(median(runs.map((r) => r.allocated)) / 1024).toFixed(1)} KiB allocated per call`
        : undefined,
    ];
    console.log(`${build.spec}: ${parts.filter(Boolean).join(', ')}`);
  }
  for (const build of builds) await build.managed.stop(10_000);
  await backend.managed.stop(5000);
  if (floor) await floor.managed.stop(5000);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error.stack ?? String(error));
    killAll();
    process.exit(1);
  },
);
