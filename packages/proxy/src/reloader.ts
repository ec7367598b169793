import type { ResolvedProxyConfig } from './config/types';
import { applyConfig, tlsFingerprint, type Reloadable, type ReloadResult } from './reload';
import type { Logger } from 'pino';
import { createReloadMetrics, type ReloadMetrics } from './reload-metrics';

/** What {@link createReloader} works on. */
export interface ReloaderParts {
  readonly proxy: Reloadable;
  /** Reads the config again (throws `ConfigError`); undefined: a reload needs a config. */
  readonly loadConfig: (() => ResolvedProxyConfig) | undefined;
  /** Count reloads in the proxy's metrics registry. */
  readonly countReloads: boolean;
  /** True once the proxy drains: a reload then changes nothing. */
  isClosing(): boolean;
}

/** Runs reloads one at a time, and logs and counts each. */
export interface Reloader {
  /** Applies `config`, or the one `loadConfig` reads now; never rejects. */
  reload(config?: ResolvedProxyConfig): Promise<ReloadResult>;
}

/** Creates the {@link Reloader} of a running proxy. */
export function createReloader(parts: ReloaderParts): Reloader {
  const { proxy } = parts;
  const metrics = parts.countReloads ? createReloadMetrics(proxy.metrics.registry) : undefined;
  let fingerprint: string | undefined;
  try {
    fingerprint = tlsFingerprint(proxy.generation.config.tls);
  } catch {
    // Unreadable now: the first reload that can read them rotates them.
    fingerprint = undefined;
  }
  let queue: Promise<unknown> = Promise.resolve();

  async function attempt(config: ResolvedProxyConfig | undefined): Promise<ReloadResult> {
    if (parts.isClosing()) return { result: 'failure', error: 'the proxy is shutting down' };
    try {
      let next = config;
      if (next === undefined) {
        if (parts.loadConfig === undefined) {
          return { result: 'failure', error: 'no config to reload: give one' };
        }
        next = parts.loadConfig();
      }
      const applied = await applyConfig(proxy, next, fingerprint);
      fingerprint = applied.tlsFingerprint;
      return applied.result;
    } catch (error) {
      return { result: 'failure', error: (error as Error).message };
    }
  }

  return {
    reload(config) {
      const run = queue
        .then(() => attempt(config))
        .then((result) => reportReload(proxy.logger, metrics, result));
      queue = run;
      return run;
    },
  };
}

/**
 * Logs a reload's result (one line: `info` "config reloaded" with what changed, `warn` when some
 * changes need a restart, `error` "config reload failed; the running config stays") and counts it.
 */
export function reportReload(
  logger: Logger,
  metrics: ReloadMetrics | undefined,
  result: ReloadResult,
): ReloadResult {
  metrics?.record(result.result);
  if (result.result === 'failure') {
    logger.error(
      { result: result.result, error: result.error },
      'config reload failed; the running config stays',
    );
  } else {
    const { result: outcome, ...fields } = result;
    const level = result.restartRequired.length > 0 ? 'warn' : 'info';
    logger[level]({ result: outcome, ...fields }, 'config reloaded');
  }
  return result;
}
