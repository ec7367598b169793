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

/** `{ ok }`, or why not, for an executable the peer needs. */
function installed(executable, name, apt) {
  return executable
    ? { ok: true }
    : { ok: false, reason: `${name} not installed (apt-get install ${apt})` };
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
    {
      id: 'nginx',
      label: 'nginx grpc_pass',
      version: () => (nginx ? versionOf(nginx, ['-v']) : undefined),
      available: () => installed(nginx, 'nginx', 'nginx'),
      start: async ({ backend, tmpDir }) => {
        const port = await freePort();
        const dir = fs.mkdtempSync(path.join(tmpDir, 'nginx-'));
        const conf = path.join(dir, 'nginx.conf');
        const asRoot = process.getuid?.() === 0;
        const backendAddress = backend.address;
        fs.writeFileSync(
          conf,
          nginxConformanceConfig({ listenPort: port, backend: backendAddress, dir, asRoot }),
        );
        const errorLog = path.join(dir, 'nginx-error.log');
        return startListening('nginx', nginx, ['-p', dir, '-c', conf, '-e', errorLog], port);
      },
    },
    {
      id: 'haproxy',
      label: 'haproxy (HTTP/2 both sides)',
      version: () => (haproxy ? versionOf(haproxy, ['-v']) : undefined),
      available: () => installed(haproxy, 'haproxy', 'haproxy'),
      start: async ({ backend, tmpDir }) => {
        const port = await freePort();
        const dir = fs.mkdtempSync(path.join(tmpDir, 'haproxy-'));
        const conf = path.join(dir, 'haproxy.cfg');
        fs.writeFileSync(
          conf,
          haproxyConformanceConfig({ listenPort: port, backend: backend.address }),
        );
        return startListening('haproxy', haproxy, ['-db', '-f', conf], port);
      },
    },
    {
      id: 'caddy',
      label: 'Caddy reverse_proxy h2c://',
      version: () => (caddy ? `Caddy ${versionOf(caddy, ['version'])}` : undefined),
      available: () => installed(caddy, 'Caddy', 'caddy'),
      start: async ({ backend, tmpDir }) => {
        const port = await freePort();
        const dir = fs.mkdtempSync(path.join(tmpDir, 'caddy-'));
        const conf = path.join(dir, 'Caddyfile');
        fs.writeFileSync(conf, caddyConfig({ listenPort: port, backend: backend.address }));
        // Caddy keeps state under HOME / XDG directories: the run's own, not the user's.
        const env = { HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
        const args = ['run', '--config', conf, '--adapter', 'caddyfile'];
        return startListening('caddy', caddy, args, port, env);
      },
    },
  ];
}

module.exports = { peerDefinitions, startListening };
