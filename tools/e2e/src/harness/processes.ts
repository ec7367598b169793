import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { resolveBin, startNodeProcess, type NodeProcess } from '@grpc-proxy/testing';
import { parseListeningAddress } from './node-process';
import { countOpenFds, readKernelMemory, type KernelMemory } from './proc-stats';
import type { ProcessStats, StatsRequest } from './stats-protocol';

/** This package's root: the nearest directory above this file with a package.json. */
function findPackageRoot(start: string): string {
  for (let dir = start; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`no package.json above ${start}`);
}

const PACKAGE_ROOT = findPackageRoot(__dirname);
const FIXTURES = path.join(PACKAGE_ROOT, 'dist', 'fixtures');

/** How long a child may take to print its listening line on a busy 2-core CI machine. */
export const STARTUP_TIMEOUT_MS = 20000;

function fixture(name: string): string {
  const file = path.join(FIXTURES, `${name}.js`);
  if (!existsSync(file)) {
    throw new Error(
      `${file} is missing: build tools/e2e first (npx tsc --build tsconfig.lib.json)`,
    );
  }
  return file;
}

/** One line of the backend's event log. */
export interface BackendEvent {
  event: 'listening' | 'call' | 'cancelled' | 'done';
  method?: string;
  id?: number;
  address?: string;
  sent?: number;
}

/** An e2e backend (`fixtures/backend.ts`) in its own process. */
export class BackendProcess {
  private constructor(
    readonly process: NodeProcess,
    readonly address: string,
  ) {}

  /** Starts a backend on `port` (default 0: any free port), TLS when `tls` is given. */
  static async start(options: { port?: number; tls?: { cert: string; key: string } } = {}) {
    const args = ['--port', String(options.port ?? 0)];
    if (options.tls) args.push('--tls-cert', options.tls.cert, '--tls-key', options.tls.key);
    const child = startNodeProcess({ script: fixture('backend'), args, name: 'backend' });
    try {
      const address = await child.waitForLine(parseListeningAddress, STARTUP_TIMEOUT_MS);
      return new BackendProcess(child, address);
    } catch (error) {
      await child.stop('SIGKILL');
      throw error;
    }
  }

  /** The port the backend listens on (to restart another one on the same port). */
  get port(): number {
    return Number(this.address.split(':').pop());
  }

  /** Every event logged so far. */
  events(): BackendEvent[] {
    return this.process.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as BackendEvent];
      } catch {
        return [];
      }
    });
  }

  /** Waits for the first logged event matching `match`. */
  waitForEvent(match: (event: BackendEvent) => boolean, timeoutMs: number): Promise<BackendEvent> {
    return this.process.waitForLine((line) => {
      try {
        const event = JSON.parse(line) as BackendEvent;
        return match(event) ? event : undefined;
      } catch {
        return undefined;
      }
    }, timeoutMs);
  }

  /** Kills the process at once (SIGKILL: no graceful close of its connections). */
  async kill(): Promise<void> {
    await this.process.stop('SIGKILL');
  }

  /** Stops the process gracefully. */
  async stop(): Promise<void> {
    await this.process.stop('SIGTERM');
  }
}

/**
 * The `grpc-proxy` command under test: `E2E_PROXY_COMMAND` when set (e.g. an installed or
 * separately built proxy), otherwise the workspace's bin (which runs `packages/proxy/dist/cli.js`,
 * built by the jest global setup).
 */
export function proxyCommandPath(): string {
  return process.env.E2E_PROXY_COMMAND || resolveBin('@grpc-proxy/proxy', 'grpc-proxy');
}

/**
 * The test kit's echo server (`grpc-proxy-echo` from `@grpc-proxy/testing`) in its own process:
 * the backend of the cases that kill and restart a backend.
 */
export class EchoCliProcess {
  private constructor(
    readonly process: NodeProcess,
    readonly address: string,
  ) {}

  /** Starts `grpc-proxy-echo --port <port>` (default 0) and waits for its listening line. */
  static async start(port = 0): Promise<EchoCliProcess> {
    const child = startNodeProcess({
      script: process.env.E2E_ECHO_COMMAND || resolveBin('@grpc-proxy/testing', 'grpc-proxy-echo'),
      args: ['--port', String(port), '--shutdown-grace-ms', '0'],
      name: 'grpc-proxy-echo',
    });
    try {
      return new EchoCliProcess(
        child,
        await child.waitForLine(parseListeningAddress, STARTUP_TIMEOUT_MS),
      );
    } catch (error) {
      await child.stop('SIGKILL');
      throw error;
    }
  }

  /** The bound port. */
  get port(): number {
    return Number(this.address.split(':').pop());
  }
}

/** The proxy's engines (`engine` in its config, `--engine` on its command line). */
export type ProxyEngine = 'grpc-js' | 'http2';

/** How to start the proxy under test. */
export interface ProxyOptions {
  /**
   * The engine serving the calls: `--engine` on the command line, or `engine` in the config
   * document (a config that names its own `engine` wins). Default: the command's default.
   */
  engine?: ProxyEngine;
  /** The single backend (`--backend HOST:PORT`); ignored when `config` is given. */
  backend?: string;
  /**
   * A config document (written to a temporary file and passed as `--config`). Its `listen`
   * defaults to `127.0.0.1:0`.
   */
  config?: Record<string, unknown>;
}

/**
 * The proxy under test in its own process, started as
 * `node --expose-gc --require stats-agent.js <grpc-proxy> ...` with an IPC channel: the command
 * runs unmodified, and the preloaded agent answers heap and active-handle queries.
 */
export class ProxyProcess {
  private constructor(
    readonly process: NodeProcess,
    readonly address: string,
    private readonly configDir: string | undefined,
  ) {}

  static async start(options: ProxyOptions): Promise<ProxyProcess> {
    let configDir: string | undefined;
    let args: string[];
    if (options.config) {
      configDir = mkdtempSync(path.join(tmpdir(), 'e2e-proxy-'));
      const file = path.join(configDir, 'proxy.json');
      const engine = options.engine && { engine: options.engine };
      const document = { listen: ['127.0.0.1:0'], ...engine, ...options.config };
      writeFileSync(file, JSON.stringify(document));
      args = ['--config', file];
    } else {
      if (!options.backend) throw new Error('a backend or a config is required');
      args = ['--listen', '127.0.0.1:0', '--backend', options.backend];
      if (options.engine) args.push('--engine', options.engine);
    }
    const script = proxyCommandPath();
    const child = startNodeProcess({
      script,
      args,
      nodeArgs: ['--expose-gc', '--require', fixture('stats-agent')],
      ipc: true,
      name: 'grpc-proxy',
    });
    try {
      const address = await child.waitForLine(parseListeningAddress, STARTUP_TIMEOUT_MS);
      return new ProxyProcess(child, address, configDir);
    } catch (error) {
      await child.stop('SIGKILL');
      if (configDir) rmSync(configDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Heap, external memory and active handles, after a full GC when `gc` (default true). */
  stats(gc = true): Promise<ProcessStats> {
    const request: StatsRequest = { type: 'stats', gc };
    return this.process.request<ProcessStats>(request);
  }

  /** RSS from `/proc` (no help from the proxy needed). */
  kernelMemory(): KernelMemory {
    return readKernelMemory(this.process.pid);
  }

  /** Open file descriptors from `/proc` (sockets included, ref'd or not). */
  openFds(): number {
    return countOpenFds(this.process.pid);
  }

  /** Stops the proxy (SIGTERM) and removes its config directory. */
  async stop(): Promise<void> {
    await this.process.stop('SIGTERM');
    if (this.configDir) rmSync(this.configDir, { recursive: true, force: true });
  }
}
