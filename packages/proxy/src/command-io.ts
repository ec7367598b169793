import type { Logger } from 'pino';
import type { ProxyHandle } from './proxy';

/** Exit codes of the `grpc-proxy` command (see {@link runCommand}). */
export const EXIT_CODES = {
  /** Stopped cleanly after a drain, help or version printed, or the config is valid. */
  ok: 0,
  /** Could not start (a listener cannot be bound...). */
  startFailed: 1,
  /** Bad flags or an invalid config: nothing was started. */
  usage: 2,
  /** Started and served, but the shutdown after a signal failed. */
  shutdownFailed: 3,
} as const;

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Where the command writes: `process.stdout`, `process.stderr`, or anything with `write`. */
export interface CommandOutput {
  write(text: string): unknown;
  /** A terminal: logs default to readable coloured lines instead of JSON. Default: false. */
  readonly isTTY?: boolean;
}

/** The signals that stop the proxy. */
export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

/** The signals the command handles: SIGTERM and SIGINT stop it, SIGHUP reloads its config. */
export type CommandSignal = ShutdownSignal | 'SIGHUP';

/** Where the command hears its signals: `process`, or an `EventEmitter` in tests. */
export interface CommandSignals {
  on(signal: CommandSignal, listener: (signal: CommandSignal) => void): unknown;
  off(signal: CommandSignal, listener: (signal: CommandSignal) => void): unknown;
}

/** What {@link runCommand} talks to instead of `process`. */
export interface CommandIo {
  /** Help, version, the check-config summary, and the proxy's logs. */
  readonly stdout: CommandOutput;
  /** Every reason for a non-zero exit, as `grpc-proxy: <reason>`, and commander's errors. */
  readonly stderr: CommandOutput;
  /**
   * A first SIGTERM/SIGINT drains the running proxy, a second one ends its running calls at
   * once; SIGHUP reloads the config (the same file and flags).
   */
  readonly signals: CommandSignals;
}

/** Writes `grpc-proxy: <message>` on stderr and returns `code`. */
export function fail(io: CommandIo, code: ExitCode, message: string): ExitCode {
  io.stderr.write(`grpc-proxy: ${message}\n`);
  return code;
}

/**
 * Resolves with the exit code once a signal has stopped the proxy: a first SIGTERM/SIGINT drains,
 * a second one ends the running calls at once.
 */
export function untilStopped(proxy: ProxyHandle, logger: Logger, io: CommandIo): Promise<ExitCode> {
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = (signal: CommandSignal) => {
      signals += 1;
      if (signals > 1) {
        logger.warn({ signal }, 'second signal: ending running calls now');
        proxy.endRunningCalls();
        return;
      }
      logger.info({ signal }, 'shutting down');
      proxy
        .close()
        .then(
          () => EXIT_CODES.ok,
          (error: unknown) =>
            fail(io, EXIT_CODES.shutdownFailed, `shutdown failed: ${(error as Error).message}`),
        )
        .then((code) => {
          io.signals.off('SIGTERM', onSignal);
          io.signals.off('SIGINT', onSignal);
          resolve(code);
        });
    };
    io.signals.on('SIGTERM', onSignal);
    io.signals.on('SIGINT', onSignal);
  });
}

/** SIGHUP: reloads the config (the same file and flags); the result is logged and counted. */
export function reloadOnSignal(proxy: ProxyHandle, logger: Logger): void {
  logger.info({ signal: 'SIGHUP' }, 'reloading the config');
  // The reloader logs and counts the result; it never rejects.
  void proxy.reload();
}
