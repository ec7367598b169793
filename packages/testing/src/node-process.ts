import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/** How to start a node program as a child process. */
export interface NodeProcessOptions {
  /** Path of the JavaScript entry point (see {@link resolveBin} for a package's bin). */
  script: string;
  /** Arguments after the script. Default: none. */
  args?: readonly string[];
  /** Flags for node itself, before the script (e.g. `--expose-gc`). Default: none. */
  nodeArgs?: readonly string[];
  /** Open an IPC channel (`process.send`) to the child. Default: false. */
  ipc?: boolean;
  /** Extra environment variables, over the parent's. Default: none. */
  env?: Record<string, string>;
  /** Working directory. Default: the parent's. */
  cwd?: string;
  /** Label used in error messages. Default: the script's file name. */
  name?: string;
}

/** How a child process ended. */
export interface ProcessExit {
  /** The exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or `null`. */
  readonly signal: NodeJS.Signals | null;
}

/** A program run to its end by {@link runNodeProcess}. */
export interface NodeProcessResult extends ProcessExit {
  /** Everything it wrote to stdout. */
  readonly stdout: string;
  /** Everything it wrote to stderr. */
  readonly stderr: string;
}

/**
 * A node program running in its own process (from {@link startNodeProcess}), with its stdout
 * kept as text and as lines, and its stderr kept as text.
 */
export interface NodeProcess {
  readonly child: ChildProcess;
  /** The label used in error messages. */
  readonly name: string;
  /** Every complete stdout line so far. */
  readonly lines: readonly string[];
  /** Everything written to stdout so far. */
  readonly stdout: string;
  /** Everything written to stderr so far. */
  readonly stderr: string;
  /** The process id. @throws Error when the program could not be started. */
  readonly pid: number;
  /** True until the process has exited and its output is read. */
  readonly running: boolean;
  /** Resolves once the process has exited and its stdout and stderr are read (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /**
   * Resolves with the first value `pick` returns for a stdout line (already printed or
   * future). Rejects after `timeoutMs`, or when the process exits first, with its stdout and
   * stderr in the message.
   */
  waitForLine<T>(pick: (line: string) => T | undefined, timeoutMs: number): Promise<T>;
  /**
   * Sends `signal` (default `SIGTERM`), then `SIGKILL` if the process still runs after
   * `graceMs` (default 5000), and resolves with how it ended.
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ProcessExit>;
  /**
   * Sends one IPC message and resolves with the child's next IPC message; rejects after
   * `timeoutMs` (default 10000). Needs `ipc: true`.
   */
  request<T>(message: unknown, timeoutMs?: number): Promise<T>;
}

class RunningNodeProcess implements NodeProcess {
  readonly child: ChildProcess;
  readonly name: string;
  readonly lines: string[] = [];
  readonly exited: Promise<ProcessExit>;
  stdout = '';
  stderr = '';
  private exit: ProcessExit | undefined;
  private readonly waiters = new Set<() => void>();

  constructor(options: NodeProcessOptions) {
    this.name = options.name ?? path.basename(options.script);
    this.child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])],
      {
        stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...options.env },
        cwd: options.cwd,
      },
    );
    this.child.once('error', (error) => (this.stderr += `spawn error: ${error.message}\n`));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.notify();
    });
    // 'close', not 'exit': by then every line the program wrote has been read.
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid: ${this.stderr}`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  waitForLine<T>(pick: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
    let scanned = 0;
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        for (; scanned < this.lines.length; scanned++) {
          const value = pick(this.lines[scanned]);
          if (value !== undefined) return done(undefined, value);
        }
        if (this.exit) done(this.failure('exited', this.exit));
      };
      const done = (error?: Error, value?: T): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        if (error) reject(error);
        else resolve(value as T);
      };
      const timer = setTimeout(
        () => done(this.failure(`printed no expected line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.add(check);
      check();
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ProcessExit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  async request<T>(message: unknown, timeoutMs = 10000): Promise<T> {
    if (!this.child.send) throw new Error(`${this.name} was started without an IPC channel`);
    const reply = once(this.child, 'message', { signal: AbortSignal.timeout(timeoutMs) });
    this.child.send(message as object);
    const [value] = await reply;
    return value as T;
  }

  private failure(what: string, exit?: ProcessExit): Error {
    const how = exit ? ` (code ${exit.code}, signal ${exit.signal})` : '';
    return new Error(
      `${this.name} ${what}${how}\n--- stdout ---\n${this.lines.slice(-20).join('\n')}\n` +
        `--- stderr ---\n${this.stderr.slice(-4000)}`,
    );
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * Starts `node [nodeArgs] script [args]` with piped stdout and stderr: the way to run a CLI
 * under test (the `grpc-proxy` command, `grpc-proxy-echo`) and wait for its "listening" line.
 * Stop it with {@link NodeProcess.stop} in `afterEach`.
 */
export function startNodeProcess(options: NodeProcessOptions): NodeProcess {
  return new RunningNodeProcess(options);
}

/** Runs a node program to its end and resolves with its exit and its whole output. */
export async function runNodeProcess(options: NodeProcessOptions): Promise<NodeProcessResult> {
  const started = startNodeProcess(options);
  const { code, signal } = await started.exited;
  return { code, signal, stdout: started.stdout, stderr: started.stderr };
}

/**
 * The file of an installed package's bin, from its package.json `bin` (e.g.
 * `resolveBin('@grpc-proxy/testing', 'grpc-proxy-echo')`), looked up from the current
 * directory, then from this package.
 *
 * @throws Error when the package is not found or declares no such bin
 */
export function resolveBin(packageName: string, binName: string): string {
  const manifestPath = require.resolve(`${packageName}/package.json`, {
    paths: [process.cwd(), __dirname],
  });
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[binName];
  if (bin === undefined) throw new Error(`${manifestPath} declares no ${binName} bin`);
  return path.resolve(path.dirname(manifestPath), bin);
}
