'use strict';
/**
 * One bench run on the running Node.js: builds what it needs, starts the rows, measures every
 * workload (and the profile run), and writes the report (markdown on stdout, JSON + markdown
 * under the results directory).
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { workloads } = require('./workloads');
const { setUp, tearDown, runWorkload } = require('./harness');
const { profileProxy } = require('./profiling');
const { renderMarkdown } = require('./report');
const { versionOf } = require('./targets');

/**
 * The built files a run needs, by package: the command under test (only when its row runs), and
 * the two packages every worker requires (message framing, pattern payloads).
 */
function builtEntryPoints(withProxy) {
  return [
    ...(withProxy ? [['@grpc-proxy/proxy', 'packages/proxy/dist/cli.js']] : []),
    ['@grpc-proxy/codec', 'packages/codec/dist/index.js'],
    ['@grpc-proxy/testing', 'packages/testing/dist/index.js'],
  ];
}

/** Builds what the bench runs (and what that depends on) so a fresh clone just works. */
function buildPackages(withProxy, { repoRoot, log }) {
  if (!fs.existsSync(path.join(repoRoot, 'packages', 'proxy', 'src', 'cli.ts'))) return;
  const newest = newestSource(repoRoot);
  const stale = builtEntryPoints(withProxy)
    .filter(([, file]) => {
      const built = path.join(repoRoot, file);
      return !fs.existsSync(built) || fs.statSync(built).mtimeMs <= newest;
    })
    .map(([name]) => name);
  if (stale.length === 0) {
    log('every dist/ the bench runs is newer than every package source: not rebuilding');
    return;
  }
  log(`building ${stale.join(', ')} (npx nx run-many -t build)`);
  const run = spawnSync(
    'npx',
    ['nx', 'run-many', '-t', 'build', '-p', ...stale, '--outputStyle=static', '--skipSync'],
    {
      cwd: repoRoot,
      stdio: ['ignore', 2, 2],
      timeout: 300_000,
    },
  );
  if (run.status !== 0) log("build failed; using whatever the packages' dist/ hold");
}

/** Latest modification time of any non-test TypeScript source under packages/. */
function newestSource(repoRoot) {
  let newest = 0;
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && !['node_modules', 'dist', 'out-tsc'].includes(entry.name))
        walk(full);
      else if (entry.isFile() && /(?<!\.spec)\.ts$/.test(entry.name)) {
        newest = Math.max(newest, fs.statSync(full).mtimeMs);
      }
    }
  };
  walk(path.join(repoRoot, 'packages'));
  return newest;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    loadBefore: os.loadavg().map((l) => l.toFixed(2)),
  };
}

/**
 * Runs the bench `options` describe (see options.js) from `repoRoot`, progress through `log`.
 * Every Node process it starts runs on `process.execPath`: the release running this function.
 */
async function runBench(options, { repoRoot, log }) {
  const began = Date.now();
  if (options.build) {
    buildPackages(!options.targets || options.targets.some((id) => id.startsWith('grpc-proxy')), {
      repoRoot,
      log,
    });
  }
  const selected = workloads.filter(
    (w) => !options.workloadIds || options.workloadIds.includes(w.id),
  );
  const result = {
    mode: options.mode,
    date: new Date().toISOString(),
    preset: options.preset,
    machine: machine(),
  };
  const ctx = await setUp({ repoRoot, targets: options.targets, h2load: options.h2load }, log);
  try {
    result.generator = ctx.h2load
      ? `h2load (${versionOf(ctx.h2load, ['--version'])}), one connection, POST of a framed message with gRPC headers, separate process`
      : 'the built-in grpc-js generator (separate process); install nghttp2-client for h2load';
    result.peers = ctx.targets.filter((t) => t.version).map((t) => t.version);
    result.skipped = ctx.skipped;
    result.workloads = [];
    for (const workload of selected) {
      log(`workload ${workload.id}`);
      result.workloads.push(await runWorkload(workload, ctx, options.preset, log));
    }
    fs.mkdirSync(options.out, { recursive: true });
    const stem = path.join(
      options.out,
      `bench-${options.mode}-${result.date.replace(/[:.]/g, '-')}`,
    );
    if (options.profile) {
      log('profile run (node --cpu-prof)');
      const profiled = workloads.find((w) => w.id === options.profileWorkload);
      result.profile = await profileProxy(ctx, options.preset, profiled, {
        generator: result.generator.split(',')[0],
        outputStem: stem,
      });
    }
    result.machine.loadAfter = os.loadavg().map((l) => l.toFixed(2));
    result.elapsedSeconds = (Date.now() - began) / 1000;
    const markdown = renderMarkdown(result);
    fs.writeFileSync(`${stem}.json`, `${JSON.stringify(result, null, 2)}\n`);
    fs.writeFileSync(`${stem}.md`, markdown);
    process.stdout.write(markdown);
    log(
      `wrote ${path.relative(process.cwd(), stem)}.json and .md in ${result.elapsedSeconds.toFixed(0)} s`,
    );
  } finally {
    await tearDown(ctx);
  }
}

module.exports = { runBench };
