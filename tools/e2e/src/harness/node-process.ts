import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** How to start a node program as a child process. */
export interface NodeProcessOptions {
  /** Path of the JavaScript entry point. */
  script: string;
  /** Arguments after the script. Default: none. */
  args?: readonly string[];
  /** Flags for node itself, before the script (e.g. `--expose-gc`). Default: none. */
  nodeArgs?: readonly string[];
  /** Open an IPC channel (`process.send`) to the child. Default: false. */
  ipc?: boolean;
  /** Extra environment variables. Default: none (the parent's environment is inherited). */
  env?: Record<string, string>;
  /** Label used in error messages. Default: the script's file name. */
  name?: string;
}

/** How a child process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A node program running in its own process, with its stdout split into lines (kept, and
 * awaitable) and its stderr collected, so a test can wait for a "listening" line, read an event
 * log, kill the process and look at what it printed.
 */
export class NodeProcess {
  readonly child: ChildProcess;
  readonly name: string;
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  /** Everything written to stderr so far. */
  stderr = '';
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private readonly lineWaiters = new Set<() => void>();

  constructor(options: NodeProcessOptions) {
    this.name = options.name ?? options.script.split('/').pop() ?? options.script;
    this.child = spawn(
      process.execPath,
      [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])],
      {
        stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...options.env },
      },
    );
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.notifyWaiters();
        resolve(this.exitInfo);
      });
    });
    this.child.once('error', (error) => {
      this.stderr += `spawn error: ${error.message}\n`;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    const stdout = this.child.stdout;
    if (stdout) {
      createInterface({ input: stdout }).on('line', (line) => {
        this.lines.push(line);
        this.notifyWaiters();
      });
    }
  }

  /** The child's process id. */
  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid: ${this.stderr}`);
    return this.child.pid;
  }

  /** True while the process has not exited. */
  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /**
   * Waits for the first stdout line (already printed or future) for which `pick` returns a
   * value, and returns that value. Rejects after `timeoutMs`, or when the process exits first,
   * with the process's stderr in the message.
   */
  async waitForLine<T>(pick: (line: string) => T | undefined, timeoutMs: number): Promise<T> {
    let scanned = 0;
    const scan = (): T | undefined => {
      for (; scanned < this.lines.length; scanned++) {
        const value = pick(this.lines[scanned]);
        if (value !== undefined) return value;
      }
      return undefined;
    };
    const found = scan();
    if (found !== undefined) return found;
    return new Promise<T>((resolve, reject) => {
      const done = (error?: Error, value?: T): void => {
        clearTimeout(timer);
        this.lineWaiters.delete(check);
        if (error) reject(error);
        else resolve(value as T);
      };
      const check = (): void => {
        const value = scan();
        if (value !== undefined) done(undefined, value);
        else if (this.exitInfo) done(this.failure('exited', this.exitInfo));
      };
      const timer = setTimeout(
        () => done(this.failure(`timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.lineWaiters.add(check);
      check();
    });
  }

  /** Sends `signal` (default SIGTERM) and waits for the exit, escalating to SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ExitInfo> {
    if (!this.running) return this.exitInfo as ExitInfo;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one IPC message and resolves with the child's next IPC message. */
  async request<T>(message: unknown, timeoutMs = 10000): Promise<T> {
    if (!this.child.send) throw new Error(`${this.name} was started without an IPC channel`);
    const reply = once(this.child, 'message', { signal: AbortSignal.timeout(timeoutMs) });
    this.child.send(message as object);
    const [value] = await reply;
    return value as T;
  }

  private failure(what: string, exit?: ExitInfo): Error {
    const how = exit ? ` (code ${exit.code}, signal ${exit.signal})` : '';
    return new Error(
      `${this.name} ${what}${how}\n--- stdout ---\n${this.lines.slice(-20).join('\n')}\n--- stderr ---\n${this.stderr.slice(-4000)}`,
    );
  }

  private notifyWaiters(): void {
    for (const waiter of [...this.lineWaiters]) waiter();
  }
}

/** Finds `host:port` in a "listening" line (plain text or a JSON log line). */
export function parseListeningAddress(line: string): string | undefined {
  if (!/listening/i.test(line)) return undefined;
  const match = /(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:]+\]|localhost):(\d{1,5})/i.exec(line);
  return match ? `${match[1]}:${match[2]}` : undefined;
}
