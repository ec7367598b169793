'use strict';
/**
 * The rows of the benchmark: what each one is, how to start it on loopback, and what to say when
 * it cannot run. Every started target exposes the address the load goes to and the pids whose
 * CPU and memory are "the proxy's" (none for direct calls); each pid counts with its children,
 * so nginx's master and worker are one proxy.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { ManagedProcess, freePort } = require('./processes');
const { nginxConfig, haproxyConfig } = require('./peer-configs');

const WORKERS = path.join(__dirname, '..', 'workers');
const START_TIMEOUT_MS = 15_000;

/** Finds an executable on PATH or in the sbin directories Debian installs daemons into. */
function findExecutable(name) {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function versionOf(command, args) {
  // nginx prints its version on stderr, haproxy and h2load on stdout.
  const run = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  const text = `${run.stdout ?? ''}\n${run.stderr ?? ''}`.trim();
  return text.split('\n')[0].trim() || 'unknown version';
}

/** Starts a Node worker script that prints `READY <port>`. */
async function startNodeWorker(name, script, args, nodeFlags = []) {
  const managed = new ManagedProcess(name, process.execPath, [
    ...nodeFlags,
    path.join(WORKERS, script),
    ...args,
  ]);
  const [, port] = await managed.waitForLine(/^READY (\d+)$/, START_TIMEOUT_MS, 'READY');
  return { managed, address: `127.0.0.1:${port}` };
}

/** Definitions of every row, in table order. `kind` is direct | proxy | floor. */

/**
 * The `grpc-proxy` command with one engine. Its stream limit per client connection is raised as
 * the peers' are (see peer-configs.js), so 1 000 concurrent streams on one connection all open.
 */
function grpcProxyTarget(id, engine, cli, repoRoot) {
  return {
    id,
    label: `grpc-proxy (this project, ${engine} engine)`,
    kind: 'proxy',
    available: () =>
      fs.existsSync(cli)
        ? { ok: true }
        : {
            ok: false,
            reason: `${path.relative(repoRoot, cli)} not built (npx nx run @grpc-proxy/proxy:build)`,
          },
    start: async (ctx, nodeFlags = []) => {
      const port = await freePort();
      const args = [
        ...['--listen', `127.0.0.1:${port}`, '--backend', ctx.backend.address],
        ...['--engine', engine, '--max-concurrent-streams', '4096'],
      ];
      const managed = new ManagedProcess('grpc-proxy', process.execPath, [
        ...nodeFlags,
        cli,
        ...args,
      ]);
      await managed.waitForPort(port, START_TIMEOUT_MS);
      return { managed, address: `127.0.0.1:${port}`, pids: [managed.pid] };
    },
  };
}

function targetDefinitions({ repoRoot }) {
  const cli = path.join(repoRoot, 'packages', 'proxy', 'dist', 'cli.js');
  const nginx = findExecutable('nginx');
  const haproxy = findExecutable('haproxy');
  return [
    {
      id: 'direct',
      label: 'direct (grpc-js echo backend)',
      kind: 'direct',
      available: () => ({ ok: true }),
      start: async (ctx) => ({ address: ctx.backend.address, pids: [] }),
    },
    grpcProxyTarget('grpc-proxy', 'grpc-js', cli, repoRoot),
    grpcProxyTarget('grpc-proxy-http2', 'http2', cli, repoRoot),
    {
      id: 'naive',
      label: 'naive grpc-js proxy (reference)',
      kind: 'proxy',
      available: () => ({ ok: true }),
      start: async (ctx, nodeFlags = []) => {
        const started = await startNodeWorker(
          'naive proxy',
          'naive-proxy.js',
          [ctx.backend.address],
          nodeFlags,
        );
        return { ...started, pids: [started.managed.pid] };
      },
    },
    {
      id: 'nginx',
      label: 'nginx grpc_pass',
      kind: 'proxy',
      version: () => (nginx ? versionOf(nginx, ['-v']) : undefined),
      available: () =>
        nginx ? { ok: true } : { ok: false, reason: 'nginx not installed (apt-get install nginx)' },
      start: async (ctx) => {
        const port = await freePort();
        const dir = fs.mkdtempSync(path.join(ctx.tmpDir, 'nginx-'));
        const conf = path.join(dir, 'nginx.conf');
        const asRoot = process.getuid?.() === 0;
        fs.writeFileSync(
          conf,
          nginxConfig({ listenPort: port, backend: ctx.backend.address, dir, asRoot }),
        );
        const managed = new ManagedProcess('nginx', nginx, [
          '-p',
          dir,
          '-c',
          conf,
          '-e',
          path.join(dir, 'nginx-error.log'),
        ]);
        await managed.waitForPort(port, START_TIMEOUT_MS);
        return { managed, address: `127.0.0.1:${port}`, pids: [managed.pid] };
      },
    },
    {
      id: 'haproxy',
      label: 'haproxy (HTTP/2 both sides)',
      kind: 'proxy',
      version: () => (haproxy ? versionOf(haproxy, ['-v']) : undefined),
      available: () =>
        haproxy
          ? { ok: true }
          : { ok: false, reason: 'haproxy not installed (apt-get install haproxy)' },
      start: async (ctx) => {
        const port = await freePort();
        const dir = fs.mkdtempSync(path.join(ctx.tmpDir, 'haproxy-'));
        const conf = path.join(dir, 'haproxy.cfg');
        fs.writeFileSync(conf, haproxyConfig({ listenPort: port, backend: ctx.backend.address }));
        const managed = new ManagedProcess('haproxy', haproxy, ['-db', '-f', conf]);
        await managed.waitForPort(port, START_TIMEOUT_MS);
        return { managed, address: `127.0.0.1:${port}`, pids: [managed.pid] };
      },
    },
  ];
}

/** The two halves of the node:http2 floor; both use the bare floor server started per run. */
const floorDefinitions = [
  {
    id: 'floor-server',
    label: 'floor: bare node:http2 server',
    kind: 'floor',
    cpuFrom: 'server',
  },
  {
    id: 'floor-client',
    label: 'floor: bare node:http2 client',
    kind: 'floor',
    cpuFrom: 'client',
  },
];

module.exports = {
  targetDefinitions,
  floorDefinitions,
  startNodeWorker,
  findExecutable,
  versionOf,
};
