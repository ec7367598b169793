#!/usr/bin/env node
'use strict';
/**
 * `npm run bench [-- --quick]`: grpc-proxy measured side by side with direct calls, a naive
 * grpc-js proxy, nginx and haproxy (when installed), and the node:http2 floor. Prints a markdown
 * report on stdout, progress on stderr, and writes JSON + markdown under bench-results/.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const { workloads, presets } = require('./workloads');
const { setUp, tearDown, runWorkload } = require('./harness');
const { profileProxy } = require('./profiling');
const { renderMarkdown } = require('./report');
const { versionOf } = require('./targets');

const repoRoot = path.resolve(__dirname, '..', '..', '..');

const USAGE = `usage: npm run bench -- [options]
  --quick              short run (3 reps, under two minutes); default is the full run
  --reps N             repetitions per row (at least 3 is the method)
  --duration S         measured seconds per run       --warmup S   warm-up seconds per run
  --targets a,b        rows: direct,grpc-proxy,naive,nginx,haproxy (direct is always kept)
  --workloads a,b      ${workloads.map((w) => w.id).join(',')}
  --no-profile         skip the --cpu-prof run      --no-build   do not build the packages first
  --profile-workload W the workload of the --cpu-prof run (default unary-100B-c100)
  --no-h2load          use the built-in grpc-js generator for unary even if h2load is installed
  --out DIR            results directory (default: <repo>/bench-results)
Peers (optional, skipped when absent): apt-get install nginx haproxy nghttp2-client`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      reps: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      targets: { type: 'string' },
      workloads: { type: 'string' },
      'no-profile': { type: 'boolean' },
      'profile-workload': { type: 'string' },
      'no-build': { type: 'boolean' },
      'no-h2load': { type: 'boolean' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const mode = values.quick ? 'quick' : 'full';
  const preset = { ...presets[mode] };
  if (values.reps) preset.reps = positive(values.reps, '--reps');
  if (values.duration) preset.durationMs = positive(values.duration, '--duration') * 1000;
  if (values.warmup) preset.warmupMs = Number(values.warmup) * 1000;
  const list = (text) =>
    text
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const targets = list(values.targets);
  return {
    help: values.help,
    mode,
    preset,
    targets: targets && [...new Set(['direct', ...targets])],
    workloadIds: list(values.workloads),
    profile: !values['no-profile'],
    profileWorkload: profileWorkload(values['profile-workload'] ?? 'unary-100B-c100'),
    build: !values['no-build'],
    h2load: !values['no-h2load'],
    out: path.resolve(values.out ?? path.join(repoRoot, 'bench-results')),
  };
}

function profileWorkload(id) {
  const workload = workloads.find((w) => w.id === id);
  if (!workload || workload.kind === 'idle') {
    throw new Error(`--profile-workload must be a unary or stream workload, got ${id}`);
  }
  return id;
}

function positive(text, flag) {
  const value = Number(text);
  if (!(value > 0)) throw new Error(`${flag} needs a positive number, got ${text}`);
  return value;
}

const startedAt = Date.now();
const log = (message) =>
  process.stderr.write(
    `[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(3)} s] ${message}\n`,
  );

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
function buildPackages(withProxy) {
  if (!fs.existsSync(path.join(repoRoot, 'packages', 'proxy', 'src', 'cli.ts'))) return;
  const newest = newestSource();
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
function newestSource() {
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

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) return console.log(USAGE);
  const began = Date.now();
  if (options.build) buildPackages(!options.targets || options.targets.includes('grpc-proxy'));
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

// Exit explicitly once done: a stray pipe or timer must never keep a finished bench alive.
main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench failed: ${error.stack ?? error}`);
    process.exit(1);
  },
);
