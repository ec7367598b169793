import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { setLogger } from '@grpc/grpc-js';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from './config/config-error';
import { configBaseDir, finishConfig, readConfigDocument } from './config/load';
import { LOG_LEVELS, type ResolvedProxyConfig } from './config/types';
import { createLogger } from './logging';
import { startProxy } from './proxy';

/** Exit codes of the `grpc-proxy` command. */
export const EXIT_CODES = {
  /** Stopped cleanly (after a drain) or the config is valid. */
  ok: 0,
  /** Could not start (a listener cannot be bound...). */
  startFailed: 1,
  /** Bad flags or an invalid config: nothing was started. */
  usage: 2,
} as const;

/** The flags of the root command, as commander parses them. */
export interface ProxyFlags {
  config?: string;
  listen?: string[];
  backend?: string[];
  healthCheck?: boolean;
  admin?: string;
  logLevel?: string;
  logFormat?: 'json' | 'pretty';
  drainTimeout?: number;
  maxMessageBytes?: number;
  maxConcurrentStreams?: number;
}

/** A flag combination that makes no sense; reported like a config error, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function integer(minimum: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < minimum) {
      throw new InvalidArgumentError(`must be an integer >= ${minimum}.`);
    }
    return parsed;
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function section(document: Record<string, unknown>, key: string): Record<string, unknown> {
  const current = document[key];
  return isPlainObject(current) ? current : {};
}

/**
 * Applies the command's flags over a config document (an empty one without `--config`); flags
 * win over the file. The result is validated like any config, so a bad `--listen` is reported
 * as `listen[0]: ...`.
 */
export function applyFlags(document: unknown, flags: ProxyFlags): unknown {
  if (flags.backend && flags.config) {
    throw new UsageError(
      '--backend cannot be combined with --config: list the backends in the config file',
    );
  }
  if (flags.healthCheck && !flags.backend) {
    throw new UsageError(
      '--health-check applies to --backend targets; in a config file use backends[].healthCheck',
    );
  }
  if (!flags.backend && !flags.config) {
    throw new UsageError(
      'nothing to proxy to: give --backend <host:port> (repeatable) or --config <file>',
    );
  }
  if (!isPlainObject(document)) return document;
  const result: Record<string, unknown> = { ...document };
  if (flags.listen) result.listen = flags.listen;
  if (flags.backend) {
    result.backends = [
      { name: 'default', targets: flags.backend, ...(flags.healthCheck && { healthCheck: true }) },
    ];
  }
  if (flags.admin !== undefined) result.admin = { listen: flags.admin };
  if (flags.logLevel !== undefined)
    result.log = { ...section(result, 'log'), level: flags.logLevel };
  if (flags.drainTimeout !== undefined) {
    result.shutdown = { ...section(result, 'shutdown'), drainTimeoutMs: flags.drainTimeout };
  }
  const limits: Record<string, unknown> = { ...section(result, 'limits') };
  if (flags.maxMessageBytes !== undefined) limits.maxMessageBytes = flags.maxMessageBytes;
  if (flags.maxConcurrentStreams !== undefined)
    limits.maxConcurrentStreams = flags.maxConcurrentStreams;
  if (Object.keys(limits).length > 0) result.limits = limits;
  return result;
}

/** The config the root command runs with: the file (if any) with the flags applied, validated. */
export function configFromFlags(flags: ProxyFlags): ResolvedProxyConfig {
  const document = flags.config ? readConfigDocument(flags.config) : {};
  const source = flags.config ?? '(command-line flags)';
  const baseDir = flags.config ? configBaseDir(flags.config) : process.cwd();
  return finishConfig(applyFlags(document, flags), source, baseDir);
}

function version(): string {
  const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

function fail(code: number, message: string): never {
  process.stderr.write(`grpc-proxy: ${message}\n`);
  process.exit(code);
}

function failOnConfig(error: unknown): never {
  if (error instanceof ConfigError || error instanceof UsageError)
    fail(EXIT_CODES.usage, error.message);
  throw error;
}

async function runProxy(flags: ProxyFlags): Promise<void> {
  let config: ResolvedProxyConfig;
  try {
    config = configFromFlags(flags);
  } catch (error) {
    failOnConfig(error);
  }
  const logger = createLogger({
    level: config.log.level,
    ...(flags.logFormat && { pretty: flags.logFormat === 'pretty' }),
  });
  // grpc-js reports some errors itself (a failed bind, a bad peer...): into the same log.
  setLogger({
    error: (...args: unknown[]) => logger.warn({ source: 'grpc-js' }, format(...args)),
  } as unknown as Console);
  let proxy;
  try {
    proxy = await startProxy(config, { logger });
  } catch (error) {
    fail(EXIT_CODES.startFailed, (error as Error).message);
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: ending running calls now');
      proxy.endRunningCalls();
      return;
    }
    logger.info({ signal }, 'shutting down');
    proxy.close().then(
      () => process.exit(EXIT_CODES.ok),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(EXIT_CODES.startFailed);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function checkConfig(file: string): void {
  let config: ResolvedProxyConfig;
  try {
    config = finishConfig(readConfigDocument(file), file, configBaseDir(file));
  } catch (error) {
    failOnConfig(error);
  }
  const backends = config.backends
    .map((backend) => `${backend.name} (${backend.targets.length})`)
    .join(', ');
  process.stdout.write(
    `${file}: OK — listen ${config.listen.join(', ')}; backends ${backends}; ` +
      `${config.routes.length} route(s); default backend ${config.defaultBackend ?? '(none)'}\n`,
  );
}

/** Builds the `grpc-proxy` command (commander 14). `parseAsync(process.argv)` runs it. */
export function createProgram(): Command {
  const program = new Command('grpc-proxy')
    .description(
      'A transparent gRPC reverse proxy: forwards every call, of any kind, to a backend chosen per call.',
    )
    .version(version(), '-V, --version')
    .option('-c, --config <file>', 'config file, YAML or JSON (see examples/grpc-proxy.yaml)')
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
    .exitOverride((error) => {
      const success =
        error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
      process.exit(success || error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage);
    })
    .action((flags: ProxyFlags) => runProxy(flags));
  program
    .command('check-config')
    .description(
      'validate a config file and exit: 0 when valid, 2 with every issue listed otherwise',
    )
    .argument('<file>', 'config file, YAML or JSON')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage))
    .action((file: string) => checkConfig(file));
  return program;
}
