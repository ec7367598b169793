'use strict';
/** The bench's command line: its usage text, its options, and their defaults. */
const path = require('node:path');
const { parseArgs } = require('node:util');
const { workloads, presets } = require('./workloads');

const USAGE = `usage: npm run bench -- [options]
  --quick              short run (3 reps, under two minutes); default is the full run
  --reps N             repetitions per row (at least 3 is the method)
  --duration S         measured seconds per run       --warmup S   warm-up seconds per run
  --targets a,b        rows: direct,grpc-proxy,grpc-proxy-http2,naive,nginx,haproxy (direct is always kept)
  --workloads a,b      ${workloads.map((w) => w.id).join(',')}
  --no-profile         skip the --cpu-prof run      --no-build   do not build the packages first
  --profile-workload W the workload of the --cpu-prof run (default unary-100B-c100)
  --no-h2load          use the built-in grpc-js generator for unary even if h2load is installed
  --node V             run every Node process of the run (backend, proxies, floor, generators)
                       on Node.js V: 22, 24, 26, newestLts, oldest, 20 or x.y.z, fetched once
                       into .cache/node (default: the Node running the bench)
  --out DIR            results directory (default: <repo>/bench-results)
Peers (optional, skipped when absent): apt-get install nginx haproxy nghttp2-client`;

const OPTIONS = {
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
  node: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** The run `argv` asks for; `out` defaults to `<repoRoot>/bench-results`. */
function parseOptions(argv, repoRoot) {
  const { values } = parseArgs({ args: argv, options: OPTIONS });
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
    node: values.node,
    out: path.resolve(values.out ?? path.join(repoRoot, 'bench-results')),
  };
}

/**
 * `argv` without its `--node` option (`--node V` or `--node=V`): the arguments of the same run
 * once it runs on that release. Read with the bench's own parser: every spelling it accepts goes,
 * a value that only looks like the option (`--out=--node`) stays.
 */
function withoutNodeOption(argv) {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, tokens: true });
  const dropped = new Set();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name !== 'node') continue;
    dropped.add(token.index);
    if (!token.inlineValue) dropped.add(token.index + 1);
  }
  return argv.filter((_, index) => !dropped.has(index));
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

module.exports = { USAGE, parseOptions, withoutNodeOption };
