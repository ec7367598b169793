import { InvalidArgumentError } from 'commander';
import { configBaseDir, finishConfig, readConfigDocument } from './config/load';
import type { ResolvedProxyConfig } from './config/types';

/** The flags of the root command, as commander parses them. */
export interface ProxyFlags {
  config?: string;
  engine?: string;
  listen?: string[];
  backend?: string[];
  healthCheck?: boolean;
  admin?: string;
  logLevel?: string;
  logFormat?: 'json' | 'pretty';
  drainTimeout?: number;
  maxMessageBytes?: number;
  maxConcurrentStreams?: number;
  workers?: number | 'auto';
}

/** A flag combination that makes no sense; reported like a config error, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** commander argument parser of a repeatable flag. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** commander argument parser of `--workers`: a positive integer or `auto`. */
export function workerCount(value: string): number | 'auto' {
  return value === 'auto' ? 'auto' : integer(1)(value);
}

/** commander argument parser of an integer flag of at least `minimum`. */
export function integer(minimum: number) {
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
 *
 * @throws {@link UsageError} for a contradicting or pointless flag combination
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
  if (flags.engine !== undefined) result.engine = flags.engine;
  if (flags.workers !== undefined) result.workers = flags.workers;
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

/**
 * The config the root command runs with: the file (if any) with the flags applied, validated.
 * Relative paths are resolved against the config file's directory, or the working directory.
 *
 * @throws {@link UsageError} or `ConfigError`
 */
export function configFromFlags(flags: ProxyFlags): ResolvedProxyConfig {
  const document = flags.config ? readConfigDocument(flags.config) : {};
  const source = flags.config ?? '(command-line flags)';
  const baseDir = flags.config ? configBaseDir(flags.config) : process.cwd();
  return finishConfig(applyFlags(document, flags), source, baseDir);
}
