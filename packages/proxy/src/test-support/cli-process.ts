import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/** The built command; jest's globalSetup builds it. */
export const CLI_PATH = path.resolve(__dirname, '../../dist/cli.js');

/** One JSON log line of the command. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A running `grpc-proxy` child process. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** JSON log lines seen so far. */
  readonly logs: LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first log line (past or future) matching `predicate`; rejects if the process exits first. */
  waitForLog(predicate: (line: LogLine) => boolean, description: string): Promise<LogLine>;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Starts `node dist/cli.js ...args --log-format json`. Stop it with {@link killAll} in `afterEach`. */
export function startCli(args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, [CLI_PATH, ...args, '--log-format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ level: 0, msg: `(not JSON) ${line}` });
    }
    waiters.forEach((wake) => wake());
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    waiters.forEach((wake) => wake());
  });
  return {
    child,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog(predicate, description) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = logs.find(predicate);
          if (found) {
            waiters.delete(check);
            resolve(found);
          } else if (hasExited) {
            waiters.delete(check);
            reject(
              new Error(`grpc-proxy exited before logging ${description}; stderr:\n${stderr}`),
            );
          }
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Starts the command and waits for its "listening" line; returns the process and its addresses. */
export async function startListeningCli(args: readonly string[]) {
  const cli = startCli(args);
  const line = await cli.waitForLog(
    (log) => log.msg === 'grpc-proxy listening',
    'grpc-proxy listening',
  );
  return { cli, addresses: line.addresses as string[], admin: line.admin as string | undefined };
}

/** Kills every command still running (call in `afterEach`) and waits for them to exit. */
export async function killAll(): Promise<void> {
  const children = [...running];
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Runs the command to completion; resolves with its exit code and output. */
export async function runCli(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) =>
    child.on('close', (exitCode) => resolve(exitCode)),
  );
  running.delete(child);
  return { code, stdout, stderr };
}
