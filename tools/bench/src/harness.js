'use strict';
/**
 * The measurement harness: starts the backend, the floor server and every available target,
 * checks each target end to end, then runs every workload with all rows interleaved (the row
 * order rotates each repetition) and summarises each figure as median and spread.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  startNodeWorker,
  targetDefinitions,
  floorDefinitions,
  findExecutable,
} = require('./targets');
const {
  runGrpcLoadgen,
  runFloorClient,
  runH2load,
  runIdleStreams,
  checkTarget,
} = require('./drivers');
const { treeCpuSeconds, treeMemory, resetPeakMemory } = require('./proc-stats');
const { summarize, ratio } = require('./stats');

/** Sums CPU seconds over a list of pids. */
function cpuOf(pids) {
  return pids.reduce((sum, pid) => sum + treeCpuSeconds(pid), 0);
}

function memoryOf(pids) {
  return pids.reduce(
    (sum, pid) => {
      const mem = treeMemory(pid);
      return { rss: sum.rss + mem.rss, peak: sum.peak + mem.peak };
    },
    { rss: 0, peak: 0 },
  );
}

/** Starts the shared processes and the selected targets; returns the running context. */
async function setUp(options, log) {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grpc-proxy-bench-'));
  const h2load = options.h2load === false ? undefined : findExecutable('h2load');
  const backend = await startNodeWorker('echo backend', 'echo-backend.js', []);
  const floor = await startNodeWorker('node:http2 floor server', 'h2-floor-server.js', []);
  const ctx = {
    repoRoot: options.repoRoot,
    tmpDir,
    h2load,
    backend,
    floor,
    targets: [],
    skipped: [],
  };
  for (const definition of targetDefinitions(ctx)) {
    if (options.targets && !options.targets.includes(definition.id)) continue;
    const availability = definition.available();
    if (!availability.ok) {
      ctx.skipped.push({ id: definition.id, label: definition.label, reason: availability.reason });
      log(`skipping ${definition.label}: ${availability.reason}`);
      continue;
    }
    try {
      const started = await definition.start(ctx);
      await checkTarget(started.address);
      ctx.targets.push({ ...definition, ...started, version: definition.version?.() });
      log(`started ${definition.label} at ${started.address}`);
    } catch (error) {
      ctx.skipped.push({ id: definition.id, label: definition.label, reason: error.message });
      log(`skipping ${definition.label}: ${error.message}`);
    }
  }
  return ctx;
}

async function tearDown(ctx) {
  const all = [...ctx.targets.map((t) => t.managed), ctx.backend.managed, ctx.floor.managed];
  await Promise.all(all.filter(Boolean).map((managed) => managed.stop()));
  fs.rmSync(ctx.tmpDir, { recursive: true, force: true });
}

/** The rows of one workload: every target, plus the two floor halves when the workload has them. */
function rowsFor(workload, ctx) {
  const rows = ctx.targets.map((target) => ({ ...target }));
  if (workload.withFloor) {
    for (const floor of floorDefinitions) {
      rows.push({
        ...floor,
        address: ctx.floor.address,
        pids: floor.cpuFrom === 'server' ? [ctx.floor.managed.pid] : [],
      });
    }
  }
  return rows;
}

/**
 * Runs one workload: `reps` rounds, each round every row once, order rotated per round. A row
 * whose run fails or loses calls is not repeated (a stalled peer would only stall again), and its
 * process is restarted before the next workload so that one wedged peer cannot spoil the rest.
 */
async function runWorkload(workload, ctx, preset, log) {
  const rows = rowsFor(workload, ctx).map((row) => ({ row, samples: [], broken: false }));
  for (const { row } of rows) for (const pid of row.pids) resetPeakMemory(pid);
  for (let rep = 0; rep < preset.reps; rep++) {
    const order = rows.map((_, i) => rows[(i + rep) % rows.length]).filter((e) => !e.broken);
    for (const entry of order) {
      const sample = await measureOnce(workload, entry.row, ctx, preset).catch((error) => ({
        failed: error.message,
      }));
      entry.samples.push(sample);
      if (sample.failed || sample.errors) {
        entry.broken = true;
        log(
          `${workload.id} / ${entry.row.id}: ${sample.failed ?? sample.firstError}; not repeated`,
        );
      }
    }
    log(`${workload.id}: repetition ${rep + 1}/${preset.reps} done`);
  }
  for (const { row, broken } of rows) if (broken && row.managed) await restart(row.id, ctx, log);
  return summarizeWorkload(workload, rows);
}

/** Replaces a target's process with a fresh one (same definition, new port). */
async function restart(id, ctx, log) {
  const index = ctx.targets.findIndex((t) => t.id === id);
  const target = ctx.targets[index];
  await target.managed.stop();
  try {
    const started = await target.start(ctx);
    await checkTarget(started.address);
    ctx.targets[index] = { ...target, ...started };
    log(`restarted ${target.label} at ${started.address}`);
  } catch (error) {
    ctx.targets.splice(index, 1);
    ctx.skipped.push({ id, label: target.label, reason: `did not restart: ${error.message}` });
    log(`could not restart ${target.label}: ${error.message}`);
  }
}

async function measureOnce(workload, row, ctx, preset) {
  if (workload.kind === 'idle') return measureIdle(workload, row, ctx);
  const pids = row.pids;
  const backendPids = [ctx.backend.managed.pid];
  const edges = {};
  const hooks = {
    onStart: () => (edges.start = { proxy: cpuOf(pids), backend: cpuOf(backendPids) }),
    onEnd: () => (edges.end = { proxy: cpuOf(pids), backend: cpuOf(backendPids) }),
  };
  const result = await drive(workload, row, ctx, preset, hooks);
  const perTenThousand = (seconds) => (result.calls > 0 ? (seconds / result.calls) * 10_000 : NaN);
  const proxyCpu =
    row.cpuFrom === 'client' ? result.cpuSeconds : edges.end.proxy - edges.start.proxy;
  return {
    calls: result.calls,
    callsPerSecond: result.callsPerSecond,
    p50Ms: result.latencyMs.p50,
    p99Ms: result.latencyMs.p99,
    cpuPer10k: row.kind === 'direct' ? NaN : perTenThousand(proxyCpu),
    backendCpuPer10k:
      row.kind === 'floor' ? NaN : perTenThousand(edges.end.backend - edges.start.backend),
    peakRssBytes: pids.length ? memoryOf(pids).peak : NaN,
    errors: result.errors,
    firstError: result.firstError,
  };
}

/** Chooses the load generator for a row: h2load for unary when installed, else grpc-js. */
function drive(workload, row, ctx, preset, hooks) {
  const common = {
    target: row.address,
    payload: workload.payload,
    warmupMs: preset.warmupMs,
    durationMs: preset.durationMs,
  };
  if (row.id === 'floor-client')
    return runFloorClient({ ...common, concurrency: workload.concurrency }, hooks);
  if (workload.kind === 'stream')
    return runGrpcLoadgen({ ...common, mode: 'stream', window: workload.window }, hooks);
  if (ctx.h2load)
    return runH2load(
      { ...common, h2load: ctx.h2load, concurrency: workload.concurrency, tmpDir: ctx.tmpDir },
      hooks,
    );
  return runGrpcLoadgen({ ...common, mode: 'unary', concurrency: workload.concurrency }, hooks);
}

/** Idle streams: RSS of the proxy (of the backend for direct) before and while they are open. */
async function measureIdle(workload, row, ctx) {
  const pids = row.kind === 'direct' ? [ctx.backend.managed.pid] : row.pids;
  const before = memoryOf(pids).rss;
  let open;
  const result = await runIdleStreams(
    { target: row.address, streams: workload.streams },
    async () => {
      open = memoryOf(pids);
    },
  );
  if (!open) return { failed: result.firstError ?? 'streams did not open', errors: result.errors };
  return {
    openMs: result.openMs,
    bytesPerStream: (open.rss - before) / workload.streams,
    rssOpenBytes: open.rss,
    peakRssBytes: open.peak,
    errors: result.errors,
    firstError: result.firstError,
  };
}

const FIGURES = [
  'callsPerSecond',
  'p50Ms',
  'p99Ms',
  'cpuPer10k',
  'backendCpuPer10k',
  'peakRssBytes',
  'openMs',
  'bytesPerStream',
  'rssOpenBytes',
];

/** Medians and spreads per row, ratios to direct, and the floor for workloads that have one. */
function summarizeWorkload(workload, rows) {
  const summarized = rows.map(({ row, samples }) => {
    const ok = samples.filter((s) => !s.failed);
    const figures = {};
    for (const figure of FIGURES) figures[figure] = summarize(ok.map((s) => s[figure]));
    figures.peakRssBytes.max = Math.max(...ok.map((s) => s.peakRssBytes).filter(Number.isFinite));
    return {
      id: row.id,
      label: row.label,
      kind: row.kind,
      figures,
      errors: samples.reduce((n, s) => n + (s.errors ?? 0), 0),
      failures: samples.filter((s) => s.failed).map((s) => s.failed),
      firstErrors: [...new Set(samples.map((s) => s.errors && s.firstError).filter(Boolean))],
      samples,
    };
  });
  const direct = summarized.find((r) => r.id === 'direct');
  const floorServer = summarized.find((r) => r.id === 'floor-server');
  const floorClient = summarized.find((r) => r.id === 'floor-client');
  const floor =
    floorServer && floorClient
      ? {
          server: floorServer.figures.cpuPer10k.median,
          client: floorClient.figures.cpuPer10k.median,
          total: floorServer.figures.cpuPer10k.median + floorClient.figures.cpuPer10k.median,
        }
      : undefined;
  for (const row of summarized) {
    row.ratios = {
      callsPerSecond: ratio(
        row.figures.callsPerSecond.median,
        direct?.figures.callsPerSecond.median,
      ),
      p50Ms: ratio(row.figures.p50Ms.median, direct?.figures.p50Ms.median),
      p99Ms: ratio(row.figures.p99Ms.median, direct?.figures.p99Ms.median),
      cpuToFloor:
        floor && row.kind !== 'floor' ? ratio(row.figures.cpuPer10k.median, floor.total) : NaN,
    };
  }
  return { ...workload, rows: summarized, floor };
}

module.exports = { setUp, tearDown, runWorkload, summarizeWorkload, measureOnce, cpuOf, memoryOf };
