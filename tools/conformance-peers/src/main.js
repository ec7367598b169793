'use strict';
/**
 * The conformance peer run: builds what it runs, runs the test kit's conformance cases against
 * every installed peer in turn, and writes docs/CONFORMANCE.md. A program, not a test: a peer
 * failing a case is a result, and the exit code is 0 whenever the page was written.
 *
 *   node src/main.js [--peers direct,nginx] [--cases empty_unary,stress] [--idle-ms 70000]
 *                    [--out docs/CONFORMANCE.md] [--no-build]
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { spawnSync } = require('node:child_process');
const prettier = require('prettier');
const { peerDefinitions } = require('./peers');
const { runPeer } = require('./run');
const { renderMarkdown } = require('./report');

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const log = (line) => process.stderr.write(`${line}\n`);

function options() {
  const { values } = parseArgs({
    options: {
      peers: { type: 'string' },
      cases: { type: 'string' },
      'idle-ms': { type: 'string', default: '70000' },
      'step-timeout-ms': { type: 'string', default: '10000' },
      out: { type: 'string', default: path.join(repoRoot, 'docs', 'CONFORMANCE.md') },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const list = (value) => (value === undefined ? undefined : value.split(','));
  return {
    peers: list(values.peers),
    cases: list(values.cases),
    idleStreamMs: Number(values['idle-ms']),
    stepTimeoutMs: Number(values['step-timeout-ms']),
    out: values.out,
    build: !values['no-build'],
  };
}

/** Builds the test kit (the cases) and the command under test; tsc -b skips what is current. */
function build() {
  const tsc = path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  const projects = ['packages/testing/tsconfig.lib.json', 'packages/proxy/tsconfig.lib.json'];
  log(`building ${projects.join(', ')} (tsc -b)`);
  const run = spawnSync(process.execPath, [tsc, '-b', ...projects], {
    cwd: repoRoot,
    stdio: ['ignore', 2, 2],
    timeout: 300_000,
  });
  if (run.status !== 0) throw new Error('the build failed (see above)');
}

/** The machine, in a line, and its load now. */
function machine() {
  const cpus = os.cpus();
  const memory = `${Math.round(os.totalmem() / 2 ** 30)} GiB`;
  const cpu = `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores`;
  return {
    description: `${cpu}, ${memory}, ${os.type()} ${os.release()}`,
    loadBefore: os.loadavg(),
  };
}

/** The commit the run's packages were built from, and whether the tree had changes on top. */
function commit() {
  const git = (...args) => spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).stdout ?? '';
  const head = git('rev-parse', '--short', 'HEAD').trim() || 'an unknown commit';
  const changed = git('status', '--porcelain', '--', 'packages').trim() !== '';
  return changed ? `${head} (with uncommitted changes under packages/)` : head;
}

async function main() {
  const settings = options();
  if (settings.build) build();
  // Required after the build: the cases run from the test kit's dist/.
  const { selectCases, startEchoServer } = require('@grpc-proxy/testing');
  const cases = selectCases({ only: settings.cases, includeSlow: true });
  const caseOptions = {
    idleStreamMs: settings.idleStreamMs,
    stepTimeoutMs: settings.stepTimeoutMs,
  };
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'conformance-peers-'));
  const run = { startedAt: new Date(), machine: machine(), commit: commit(), options: caseOptions };
  run.cases = cases.map(({ name, description, slow }) => ({ name, description, slow }));
  run.peers = [];
  try {
    for (const peer of peerDefinitions({ repoRoot })) {
      if (settings.peers !== undefined && !settings.peers.includes(peer.id)) continue;
      const entry = {
        id: peer.id,
        label: peer.label,
        version: peer.version(),
        knownDifferences: peer.knownDifferences,
      };
      run.peers.push(entry);
      const available = peer.available();
      if (!available.ok) {
        entry.skipped = available.reason;
        log(`${peer.label}: skipped, ${available.reason}`);
        continue;
      }
      log(`${peer.label} (${entry.version})`);
      Object.assign(
        entry,
        await runPeer(peer, { cases, options: caseOptions, tmpDir, log, startEchoServer }),
      );
      if (entry.startError) log(`  did not start: ${entry.startError}`);
    }
  } finally {
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  run.finishedAt = new Date();
  run.machine.loadAfter = os.loadavg();
  // Formatted as the repository's \`prettier --check .\` wants it.
  const format = { ...(await prettier.resolveConfig(settings.out)), filepath: settings.out };
  fs.writeFileSync(settings.out, await prettier.format(renderMarkdown(run), format));
  log(`wrote ${path.relative(process.cwd(), settings.out)}`);
}

main().catch((error) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
