import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import { Command, CommanderError, Option } from 'commander';
import type { DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import {
  collect,
  configFromFlags,
  integer,
  UsageError,
  workerCount,
  type ProxyFlags,
} from './command-flags';
import { ConfigError } from './config/config-error';
import { loadConfig } from './config/load';
import { ENGINES, LOG_LEVELS, type ResolvedProxyConfig } from './config/types';
import { createLogger } from './logging';
import { WORKER_CONFIG_ENV } from './cluster-messages';
import { runPrimary } from './cluster-primary';
import { runWorker, workerSlot } from './cluster-worker';
import { startProxy, type ProxyHandle } from './proxy';
import {
  EXIT_CODES,
  fail,
  reloadOnSignal,
  untilStopped,
  type CommandIo,
  type CommandOutput,
  type ExitCode,
} from './command-io';

export {
  EXIT_CODES,
  type CommandIo,
  type CommandOutput,
  type CommandSignal,
  type CommandSignals,
  type ExitCode,
  type ShutdownSignal,
} from './command-io';

function version(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function failOnConfig(io: CommandIo, error: unknown): ExitCode {
  if (error instanceof ConfigError || error instanceof UsageError)
    return fail(io, EXIT_CODES.usage, error.message);
  throw error;
}

/** Log lines to `stdout`: JSON, or pino-pretty lines (coloured on a terminal). */
function logDestination(stdout: CommandOutput, logFormat: ProxyFlags['logFormat']) {
  const pretty = logFormat === undefined ? stdout.isTTY === true : logFormat === 'pretty';
  const prettify = pretty ? prettyFactory({ colorize: stdout.isTTY === true }) : undefined;
  return {
    write: (line: string) => void stdout.write(prettify ? prettify(line) : line),
  } satisfies DestinationStream;
}

/** The config of this process: the primary's, in a worker; the file and flags otherwise. */
function commandConfig(flags: ProxyFlags): ResolvedProxyConfig {
  const fromPrimary = workerSlot() === undefined ? undefined : process.env[WORKER_CONFIG_ENV];
  return fromPrimary ? (JSON.parse(fromPrimary) as ResolvedProxyConfig) : configFromFlags(flags);
}

async function runProxy(
  flags: ProxyFlags,
  io: CommandIo,
  argv: readonly string[],
): Promise<ExitCode> {
  let config: ResolvedProxyConfig;
  try {
    config = commandConfig(flags);
  } catch (error) {
    return failOnConfig(io, error);
  }
  const slot = cluster.isWorker ? workerSlot() : undefined;
  const root = createLogger({
    level: config.log.level,
    pretty: false,
    destination: logDestination(io.stdout, flags.logFormat),
  });
  const logger = slot === undefined ? root : root.child({ worker: Number(slot), pid: process.pid });
  // A reload reads the same file with the same flags over it.
  const loadConfig = () => configFromFlags(flags);
  if (slot === undefined && config.workers > 1) {
    return runPrimary({ config, argv, loadConfig, io, logger });
  }
  // grpc-js reports some errors itself (a failed bind, a bad peer...): into the same log, while
  // the command runs (grpc-js's logger is global; console is its default).
  setLogger({
    error: (...args: unknown[]) => logger.warn({ source: 'grpc-js' }, format(...args)),
  } as unknown as Console);
  try {
    if (slot !== undefined) return await runWorker(config, logger, io);
    // One SIGHUP listener for the whole run: a SIGHUP while starting (or just after the
    // "listening" line) is held, and adding and removing listeners around the start would leave
    // moments with none, when the signal's default action ends the process.
    let proxy: ProxyHandle | undefined;
    let heldReload = false;
    const onReload = () => {
      if (proxy === undefined) heldReload = true;
      else reloadOnSignal(proxy, logger);
    };
    io.signals.on('SIGHUP', onReload);
    try {
      try {
        proxy = await startProxy(config, { logger, loadConfig });
      } catch (error) {
        return fail(io, EXIT_CODES.startFailed, (error as Error).message);
      }
      if (heldReload) reloadOnSignal(proxy, logger);
      return await untilStopped(proxy, logger, io);
    } finally {
      io.signals.off('SIGHUP', onReload);
    }
  } finally {
    setLogger(console);
  }
}

function checkConfig(file: string, io: CommandIo): ExitCode {
  let config: ResolvedProxyConfig;
  try {
    config = loadConfig(file);
  } catch (error) {
    return failOnConfig(io, error);
  }
  const backends = config.backends
    .map((backend) => `${backend.name} (${backend.targets.length})`)
    .join(', ');
  io.stdout.write(
    `${file}: OK — listen ${config.listen.join(', ')}; backends ${backends}; ` +
      `${config.routes.length} route(s); default backend ${config.defaultBackend ?? '(none)'}\n`,
  );
  return EXIT_CODES.ok;
}

/** The commander program; each action reports its exit code through `done`. */
function createProgram(
  io: CommandIo,
  argv: readonly string[],
  done: (code: ExitCode) => void,
): Command {
  const program = new Command('grpc-proxy')
    .description(
      'A transparent gRPC reverse proxy: forwards every call, of any kind, to a backend chosen per call.',
    )
    // Before .command(): subcommands inherit the output and the exit override.
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    })
    .exitOverride()
    .version(version(), '-V, --version')
    .option('-c, --config <file>', 'config file, YAML or JSON (see examples/grpc-proxy.yaml)')
    .addOption(
      new Option('--engine <name>', 'engine serving the calls (default http2)').choices([
        ...ENGINES,
      ]),
    )
    .option(
      '--workers <n>',
      'worker processes sharing the listeners, or auto (one per CPU); default 1',
      workerCount,
    )
    .option(
      '-l, --listen <address>',
      'address to accept gRPC on, host:port (repeatable; default 0.0.0.0:8080)',
      collect,
    )
    .option(
      '-b, --backend <target>',
      'backend target, host:port (repeatable: round-robin over them)',
      collect,
    )
    .option(
      '--health-check',
      'health-check the --backend targets with grpc.health.v1 and skip unhealthy ones',
    )
    .option(
      '--admin <address>',
      'admin HTTP listener for /metrics, /healthz and /readyz, host:port',
    )
    .addOption(
      new Option('--log-level <level>', 'lowest log level (default info)').choices([...LOG_LEVELS]),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log format (default: pretty on a terminal, json otherwise)',
      ).choices(['json', 'pretty']),
    )
    .option(
      '--drain-timeout <ms>',
      'how long running calls may finish on SIGTERM/SIGINT (default 10000)',
      integer(0),
    )
    .option(
      '--max-message-bytes <bytes>',
      'largest message either way (default 67108864)',
      integer(1),
    )
    .option(
      '--max-concurrent-streams <n>',
      'largest number of concurrent calls per client connection',
      integer(1),
    )
    .showHelpAfterError('(run grpc-proxy --help for usage)')
    .action(async (flags: ProxyFlags) => done(await runProxy(flags, io, argv)));
  program
    .command('check-config')
    .description(
      'validate a config file and exit: 0 when valid, 2 with every issue listed otherwise',
    )
    .argument('<file>', 'config file, YAML or JSON')
    .action((file: string) => done(checkConfig(file, io)));
  return program;
}

/**
 * Runs the `grpc-proxy` command with `argv` (the arguments after `grpc-proxy`), talking to
 * `io` instead of `process`; never calls `process.exit` (cli.ts does, with the result).
 * The proxy runs until a signal on `io.signals`; while it runs, grpc-js's global logger writes
 * into the command's log (console again afterwards).
 *
 * @returns the exit code:
 * - `0` ({@link EXIT_CODES}.ok): the proxy stopped cleanly after a drain, help or version was
 *   printed, or `check-config` found the file valid;
 * - `1` (startFailed): the proxy could not start (a listener could not be bound);
 * - `2` (usage): bad flags or an invalid config, nothing started;
 * - `3` (shutdownFailed): the proxy ran, but stopping it after a signal failed.
 *
 * Every non-zero code comes with its reason on `io.stderr`.
 * @throws only on a defect of the command itself
 */
export async function runCommand(argv: readonly string[], io: CommandIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT_CODES.ok;
  const program = createProgram(io, argv, (code) => (exitCode = code));
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    // exitOverride: help, version and commander's own errors (already written to io) land here.
    if (error instanceof CommanderError)
      return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    throw error;
  }
  return exitCode;
}
