'use strict';
/**
 * The peers of a conformance run: how to find each, start it on a loopback port in front of the
 * run's echo backend, and stop it. The processes, executable lookup and version lines are the
 * bench's (tools/bench/src), so both tools start the peers the same way.
 */
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { once } = require('node:events');
const { ManagedProcess, delay, freePort } = require('@grpc-proxy/bench/src/processes');
const { findExecutable, versionOf } = require('@grpc-proxy/bench/src/targets');
const { caddyConfig, haproxyConformanceConfig, nginxConformanceConfig } = require('./configs');

const START_TIMEOUT_MS = 15_000;

/** Whether 127.0.0.1:`port` accepts a connection now. */
async function accepting(port) {
  const socket = net.connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/**
 * Starts `command args` and resolves once 127.0.0.1:`port` accepts connections. (Not the bench's
 * `waitForPort`: its polling goes on after a peer failed to start, and the run would never end.)
 */
async function startListening(name, command, args, port, env) {
  const managed = new ManagedProcess(name, command, args, { env });
  let waiting = true;
  const poll = async () => {
    while (waiting && !(await accepting(port))) await delay(50);
  };
  try {
    await managed.deadline(poll(), START_TIMEOUT_MS, `port ${port} to accept connections`);
  } catch (error) {
    await managed.stop();
    throw error;
  } finally {
    waiting = false;
  }
  return { address: `127.0.0.1:${port}`, stop: () => managed.stop() };
}

/**
 * A peer run from an installed executable (Debian package `id`) with a generated config `file`:
 * `config({ listenPort, backend, dir })` is its text, `args(conf, dir)` the command line, `env(dir)`
 * extra environment.
 */
function installedPeer({ id, label, executable, version, file, config, args, env = () => ({}) }) {
  return {
    id,
    label,
    version: () => (executable ? version(executable) : undefined),
    available: () =>
      executable ? { ok: true } : { ok: false, reason: `not installed (apt-get install ${id})` },
    start: async ({ backend, tmpDir }) => {
      const port = await freePort();
      const dir = fs.mkdtempSync(path.join(tmpDir, `${id}-`));
      const conf = path.join(dir, file);
      fs.writeFileSync(conf, config({ listenPort: port, backend: backend.address, dir }));
      return startListening(id, executable, args(conf, dir), port, env(dir));
    },
  };
}

/** The `grpc-proxy` command with `engine`, one backend, default limits. */
function grpcProxy(repoRoot, engine, knownDifferences) {
  const cli = path.join(repoRoot, 'packages', 'proxy', 'dist', 'cli.js');
  return {
    id: `grpc-proxy-${engine}`,
    label: `grpc-proxy --engine ${engine}`,
    version: () => {
      const { version } = require(path.join(repoRoot, 'packages', 'proxy', 'package.json'));
      return `grpc-proxy ${version} (Node.js ${process.versions.node})`;
    },
    available: () =>
      fs.existsSync(cli)
        ? { ok: true }
        : { ok: false, reason: `${path.relative(repoRoot, cli)} not built` },
    knownDifferences,
    start: async ({ backend }) => {
      const port = await freePort();
      const args = ['--listen', `127.0.0.1:${port}`, '--backend', backend.address];
      args.push('--engine', engine, '--log-level', 'warn');
      return startListening(`grpc-proxy (${engine})`, process.execPath, [cli, ...args], port);
    },
  };
}

/**
 * Every peer, in table order. `knownDifferences` lists the cases a peer fails by design (said
 * so in its documentation), with why.
 * @param {{ repoRoot: string }} options
 */
function peerDefinitions({ repoRoot }) {
  const nginx = findExecutable('nginx');
  const haproxy = findExecutable('haproxy');
  const caddy = findExecutable('caddy');
  const inflates =
    'by design: grpc-js decompresses what it receives and the engine forwards it uncompressed';
  return [
    {
      id: 'direct',
      label: 'direct (no proxy)',
      version: () => `echo server on grpc-js (Node.js ${process.versions.node})`,
      available: () => ({ ok: true }),
      start: async ({ backend }) => ({ address: backend.address, stop: async () => undefined }),
    },
    grpcProxy(repoRoot, 'grpc-js', {
      compressed_request_stays_compressed: inflates,
      compressed_response_stays_compressed: inflates,
    }),
    grpcProxy(repoRoot, 'http2'),
    installedPeer({
      id: 'nginx',
      label: 'nginx grpc_pass',
      executable: nginx,
      version: (nginxPath) => versionOf(nginxPath, ['-v']),
      file: 'nginx.conf',
      config: (options) => nginxConformanceConfig({ ...options, asRoot: process.getuid?.() === 0 }),
      args: (conf, dir) => ['-p', dir, '-c', conf, '-e', path.join(dir, 'nginx-error.log')],
    }),
    installedPeer({
      id: 'haproxy',
      label: 'haproxy (HTTP/2 both sides)',
      executable: haproxy,
      version: (haproxyPath) => versionOf(haproxyPath, ['-v']),
      file: 'haproxy.cfg',
      config: haproxyConformanceConfig,
      args: (conf) => ['-db', '-f', conf],
    }),
    installedPeer({
      id: 'caddy',
      label: 'Caddy reverse_proxy h2c://',
      executable: caddy,
      version: (caddyPath) => `Caddy ${versionOf(caddyPath, ['version'])}`,
      file: 'Caddyfile',
      config: caddyConfig,
      args: (conf) => ['run', '--config', conf, '--adapter', 'caddyfile'],
      // Caddy keeps state under HOME / XDG directories: the run's own, not the user's.
      env: (dir) => ({ HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }),
    }),
  ];
}

module.exports = { peerDefinitions, startListening };
