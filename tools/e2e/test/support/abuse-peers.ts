/**
 * nginx and haproxy as gRPC proxies in front of the probe backend, so that the abuse suite's
 * attacks can be measured on them the same way (`E2E_ABUSE_PEERS=1`, where they are installed).
 * Each runs in the foreground as one process (nginx: `master_process off`, one worker), with
 * its defaults but for what proxying gRPC over h2c needs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readKernelMemory, splitAddress } from '../../src';

/** What the abuse suite needs of the proxy under attack. */
export interface AttackedProxy {
  readonly address: string;
  kernelMemory(): { rss: number };
  readonly process: { readonly pid: number; readonly running: boolean; readonly stderr: string };
  stop(): Promise<void>;
}

/** The peers the suite knows, and whether each is installed. */
export const PEERS = ['nginx', 'haproxy'] as const;
/** A peer proxy. */
export type Peer = (typeof PEERS)[number];

/** Whether `peer`'s binary runs here. */
export function installed(peer: Peer): boolean {
  return spawnSync(peer, ['-v'], { stdio: 'ignore' }).status === 0;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function nginxConfig(dir: string, port: number, backend: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} http2;
    location / { grpc_pass grpc://${backend}; }
  }
}
`;
}

function haproxyConfig(port: number, backend: string): string {
  return `defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend grpc
  bind 127.0.0.1:${port} proto h2
  default_backend probe
backend probe
  server probe ${backend} proto h2
`;
}

/** Waits until something accepts connections on `port` (bounded: 50 tries, 100 ms apart). */
async function listening(port: number, child: ChildProcess): Promise<void> {
  for (let attempt = 0; attempt < 50 && child.exitCode === null; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`peer proxy did not listen on ${port}`);
}

/** Starts `peer` in front of `backend` (`host:port`, h2c) on a free port. */
export async function startPeer(peer: Peer, backend: string): Promise<AttackedProxy> {
  const dir = mkdtempSync(path.join(tmpdir(), `e2e-${peer}-`));
  const port = await freePort();
  const [host, backendPort] = splitAddress(backend);
  const target = `${host}:${backendPort}`;
  let args: string[];
  if (peer === 'nginx') {
    writeFileSync(path.join(dir, 'nginx.conf'), nginxConfig(dir, port, target));
    args = ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];
  } else {
    writeFileSync(path.join(dir, 'haproxy.cfg'), haproxyConfig(port, target));
    args = ['-db', '-f', path.join(dir, 'haproxy.cfg')];
  }
  const child = spawn(peer, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await listening(port, child);
  return {
    address: `127.0.0.1:${port}`,
    kernelMemory: () => readKernelMemory(child.pid!),
    process: {
      pid: child.pid!,
      get running() {
        return child.exitCode === null && child.signalCode === null;
      },
      get stderr() {
        return stderr;
      },
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
