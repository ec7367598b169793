import { EventEmitter } from 'node:events';
import { runCommand, type CommandSignal } from '../command';

/** One JSON log line of the command. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** The `grpc-proxy` command running in this process, with its output captured. */
export interface CommandRun {
  /** Resolves with the exit code. */
  readonly exitCode: Promise<number>;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** The JSON log lines seen so far. */
  readonly logs: LogLine[];
  /** Delivers SIGTERM, SIGINT or SIGHUP to the command. */
  signal(name: CommandSignal): void;
  /** Resolves with the first log line (past or future) matching `predicate`; rejects if the command ends first. */
  waitForLog(predicate: (line: LogLine) => boolean, description: string): Promise<LogLine>;
  /** Resolves once the command listens for signals (the proxy runs); rejects if it ends first. */
  stoppable(): Promise<void>;
}

const running = new Set<CommandRun>();

/**
 * Starts `grpc-proxy ...args` in this process (stdout not a terminal: JSON logs). `onStdout`
 * sees each write first and may throw, as a broken stdout would. Stop it with
 * {@link stopCommands} in `afterEach`.
 */
export function startCommand(
  args: readonly string[],
  onStdout: (text: string) => void = () => undefined,
): CommandRun {
  let stdout = '';
  let stderr = '';
  let ended = false;
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  const signals = new EventEmitter();
  const exitCode = runCommand(args, {
    stdout: {
      write: (text: string) => {
        onStdout(text);
        stdout += text;
        if (text.startsWith('{')) logs.push(JSON.parse(text) as LogLine);
        waiters.forEach((wake) => wake());
      },
    },
    stderr: { write: (text: string) => (stderr += text) },
    signals,
  }).finally(() => {
    ended = true;
    running.delete(run);
    waiters.forEach((wake) => wake());
  });
  signals.on('newListener', () => queueMicrotask(() => waiters.forEach((wake) => wake())));
  /** Resolves with the first truthy `find()`, checked on every write, listener and the end. */
  const until = <T>(find: () => T | undefined, description: string) =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const found = find();
        if (found || ended) waiters.delete(check);
        if (found) resolve(found);
        else if (ended) reject(new Error(`grpc-proxy ended before ${description}: ${stderr}`));
      };
      waiters.add(check);
      check();
    });
  const run: CommandRun = {
    exitCode,
    stdout: () => stdout,
    stderr: () => stderr,
    logs,
    signal: (name) => signals.emit(name, name),
    waitForLog: (predicate, description) =>
      until(() => logs.find(predicate), `logging ${description}`),
    stoppable: () =>
      until(() => signals.listenerCount('SIGINT') > 0 || undefined, 'listening for signals').then(
        () => undefined,
      ),
  };
  running.add(run);
  return run;
}

/** Runs the command to its end; resolves with its exit code and output. */
export async function runToExit(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = startCommand(args);
  const code = await run.exitCode;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Starts the command and waits for its "listening" line; returns the run and its addresses. */
export async function startListening(args: readonly string[]) {
  const run = startCommand(args);
  const line = await run.waitForLog(
    (log) => log.msg === 'grpc-proxy listening',
    'grpc-proxy listening',
  );
  await run.stoppable();
  return { run, addresses: line.addresses as string[], admin: line.admin as string | undefined };
}

/**
 * Stops every command still running (call in `afterEach`): a first signal drains, a second
 * one ends the calls a test left running.
 */
export async function stopCommands(): Promise<void> {
  await Promise.all(
    [...running].map(async (run) => {
      // A command that ends before it listens for signals ends by itself.
      if (
        await run.stoppable().then(
          () => true,
          () => false,
        )
      ) {
        run.signal('SIGTERM');
        run.signal('SIGTERM');
      }
      await run.exitCode;
    }),
  );
}
