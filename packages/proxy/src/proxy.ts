import type { StreamDirector } from '@grpc-proxy/handler';
import type { Logger } from 'pino';
import { createBackendGroup, memberName, type TargetHealthChange } from './backends';
import { BackendPool } from './backend-pool';
import type { ResolvedProxyConfig } from './config/types';
import { startAdminServer, type AdminServer } from './admin';
import { grpcJsServer, http2Server, type EngineServer } from './engine-server';
import { buildGeneration, generationNotReady, type Generation } from './generation';
import { combineObservers, createCallLogger, createLogger, passiveHealthReporter } from './logging';
import { createProxyMetrics, type ProxyMetrics } from './metrics';
import { createReloader } from './reloader';
import type { Listener, ReloadResult } from './reload';

export { SHUTDOWN_MESSAGE } from './engine-server';
export type { ReloadResult } from './reload';

/** Options of {@link startProxy}. */
export interface StartProxyOptions {
  /** Logger. Default: pino at the config's level, JSON (pretty on a terminal). */
  logger?: Logger;
  /** Metrics. Default: a fresh {@link createProxyMetrics} registry. */
  metrics?: ProxyMetrics;
  /** Called on every health change of a health-checked target (after metrics and logs). Default: none. */
  onHealthChange?: (change: TargetHealthChange) => void;
  /**
   * Reads the config again, for a {@link ProxyHandle.reload} without one (SIGHUP and
   * `POST /reload` in the command, which re-reads its file and flags); throws `ConfigError` for
   * an invalid one. Default: none (`reload()` then needs a config; the admin listener has no
   * `POST /reload`).
   */
  loadConfig?: () => ResolvedProxyConfig;
  /**
   * Count reloads in `metrics.registry` (`grpc_proxy_config_reloads_total`,
   * `grpc_proxy_config_last_reload_success_timestamp_seconds`). Default: true (false in the
   * command's workers: their primary counts them).
   */
  countReloads?: boolean;
}

/** How a drain went. */
export interface DrainSummary {
  /** Calls that were running when the drain began. */
  readonly inFlightAtStart: number;
  /** Calls ended with `UNAVAILABLE` because the drain timeout passed. */
  readonly endedByProxy: number;
}

/** A running proxy, as {@link startProxy} returns it. */
export interface ProxyHandle {
  /** The first listen address, with the real port (`127.0.0.1:43121` when port 0 was asked). */
  readonly address: string;
  /** Every listen address, with real ports, in config order (a reload's new ones last). */
  readonly addresses: readonly string[];
  /** The admin listener's address, when one is configured. */
  readonly adminAddress?: string;
  /** The proxy's metrics (the registry `/metrics` serves). */
  readonly metrics: ProxyMetrics;
  /** The director of the running config's backends and routes (the reloaded ones after a reload). */
  readonly director: StreamDirector;
  /**
   * Applies `config` (default: the `loadConfig` option's, read now) without dropping a call: new
   * calls use its routes and backends while running calls finish on the old ones; backends whose
   * definition did not change keep their connections and health; backends no longer named are
   * closed once their calls end; new listen addresses are bound before dropped ones close
   * gracefully; changed TLS files reach new connections, and on the grpc-js engine so do new
   * `limits`, `metadata` and TLS mode (a new grpc-js server for new connections, the old one
   * drains). Fields the running proxy cannot change (`engine`, `workers`, `admin`; on the http2
   * engine also limits, metadata and TLS) keep their running values and are listed in
   * `restartRequired`. An invalid config, or a listener that
   * cannot be bound, changes nothing: the result is a failure with the reason. Reloads run one
   * at a time; each is logged and counted.
   */
  reload(config?: ResolvedProxyConfig): Promise<ReloadResult>;
  /** Why the proxy is not ready for traffic, or `undefined` when it is (what `/readyz` reports). */
  notReadyReason(): string | undefined;
  /**
   * Graceful stop: stops accepting connections and calls, lets running calls finish for up to
   * `drainTimeoutMs` (default: the config's `shutdown.drainTimeoutMs`), then ends the rest with
   * `UNAVAILABLE` "grpc-proxy: shutting down", closes the backends and the admin listener.
   * Idempotent: later calls return the first call's promise.
   */
  close(drainTimeoutMs?: number): Promise<DrainSummary>;
  /**
   * During a drain, ends the calls still running now instead of at the timeout. On the http2
   * engine it has no effect: that engine's drain cannot be cut short, its calls end at the timeout.
   */
  endRunningCalls(): void;
}

/** Turns health changes into the health gauge, a log line and the caller's callback. */
function healthReporter(
  metrics: ProxyMetrics,
  logger: Logger,
  callback: StartProxyOptions['onHealthChange'],
): (change: TargetHealthChange) => void {
  return (change) => {
    metrics.setBackendHealth(change.backend, change.target, change.status === 'SERVING');
    const level = change.status === 'SERVING' ? 'info' : 'warn';
    logger[level](
      { ...change },
      `backend ${memberName(change.backend, change.target)} is ${change.status}`,
    );
    callback?.(change);
  };
}

/** What a drain needs to stop. */
interface Running {
  readonly server: EngineServer;
  readonly pool: BackendPool;
  readonly admin: AdminServer | undefined;
  readonly logger: Logger;
}

/**
 * Stops accepting, waits for the running calls until `deadline` resolves, ends the rest with
 * UNAVAILABLE, then closes the backends and the admin listener.
 */
async function drain(
  running: Running,
  deadline: Promise<void>,
  timeoutMs: number,
): Promise<DrainSummary> {
  const { server, logger } = running;
  const inFlightAtStart = server.activeCalls;
  logger.info({ inFlight: inFlightAtStart, drainTimeoutMs: timeoutMs }, 'draining: no new calls');
  const endedByProxy = await server.drain(deadline, timeoutMs);
  if (endedByProxy > 0) {
    logger.warn({ endedByProxy }, 'drain timeout: running calls ended with UNAVAILABLE');
  }
  running.pool.closeAll();
  await running.admin?.close();
  logger.info({ inFlightAtStart, endedByProxy }, 'grpc-proxy stopped');
  return { inFlightAtStart, endedByProxy };
}

/** A deadline that resolves after `ms`, or at once when `expireNow()` is called. */
function drainDeadline(ms: number): { promise: Promise<void>; expireNow(): void; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  let expire = () => undefined as void;
  const promise = new Promise<void>((resolve) => {
    expire = resolve;
    timer = setTimeout(resolve, ms);
  });
  return { promise, expireNow: () => expire(), clear: () => clearTimeout(timer) };
}

/**
 * Starts the proxy a resolved config describes (see `loadConfig`): backends with their
 * health checks and balancing, the routes, the gRPC listeners on the config's `engine` with TLS
 * and limits, the admin listener, metrics and logs. Resolves once every listener is bound (and
 * the first health answers are in, for at most the longest health-check timeout).
 *
 * @throws Error when a listener cannot be bound; everything started is stopped first.
 */
export async function startProxy(
  config: ResolvedProxyConfig,
  options: StartProxyOptions = {},
): Promise<ProxyHandle> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const metrics = options.metrics ?? createProxyMetrics();
  const onHealthChange = healthReporter(metrics, logger, options.onHealthChange);
  const onAvailabilityChange = passiveHealthReporter(metrics, logger);
  const pool = new BackendPool(
    (backend, channel) =>
      createBackendGroup(backend, channel, onHealthChange, onAvailabilityChange),
    (retired) => {
      const { name } = retired;
      logger.info({ backend: name }, `backend ${name} closed: replaced, and its calls ended`);
      // Its targets' health series go, unless the running config still has the same target.
      const current = generation.config.backends.find((backend) => backend.name === name);
      for (const target of retired.targets) {
        if (!current?.targets.includes(target)) metrics.removeTarget(name, target);
      }
    },
  );
  let generation: Generation = await buildGeneration(config, pool, metrics, logger);
  // The engines ask the current generation for every call: a reload swaps it under them.
  const director: StreamDirector = (call) => generation.director(call);

  let server: EngineServer;
  try {
    const startEngine = config.engine === 'http2' ? http2Server : grpcJsServer;
    server = startEngine({
      config,
      director,
      observer: combineObservers(metrics.observer, createCallLogger(logger)),
    });
  } catch (error) {
    pool.closeAll();
    throw error;
  }

  let draining = false;
  const notReadyReason = () => (draining ? 'draining' : generationNotReady(generation));
  const listeners: Listener[] = [];
  const reloader = createReloader({
    proxy: {
      get generation() {
        return generation;
      },
      set generation(next) {
        generation = next;
      },
      listeners,
      server,
      pool,
      metrics,
      logger,
    },
    loadConfig: options.loadConfig,
    countReloads: options.countReloads ?? true,
    isClosing: () => draining,
  });
  let admin: AdminServer | undefined;
  try {
    for (const address of config.listen) {
      listeners.push({ address, bound: await server.listen(address) });
    }
    if (config.admin) {
      admin = await startAdminServer(config.admin.listen, {
        registry: metrics.registry,
        notReadyReason,
        ...(options.loadConfig && { reload: () => reloader.reload() }),
      });
    }
  } catch (error) {
    server.abort();
    pool.closeAll();
    throw error;
  }
  const addresses = () => listeners.map((listener) => listener.bound);
  logger.info(
    {
      addresses: addresses(),
      admin: admin?.address,
      backends: config.backends.map((backend) => backend.name),
    },
    'grpc-proxy listening',
  );

  let closing: Promise<DrainSummary> | undefined;
  let deadline: ReturnType<typeof drainDeadline> | undefined;
  return {
    get address() {
      return addresses()[0];
    },
    get addresses() {
      return addresses();
    },
    ...(admin && { adminAddress: admin.address }),
    metrics,
    director,
    notReadyReason,
    reload: (next) => reloader.reload(next),
    close(drainTimeoutMs = generation.config.shutdown.drainTimeoutMs) {
      if (closing === undefined) {
        draining = true;
        deadline = drainDeadline(drainTimeoutMs);
        const stopped = deadline;
        closing = drain({ server, pool, admin, logger }, stopped.promise, drainTimeoutMs).finally(
          () => stopped.clear(),
        );
      }
      return closing;
    },
    endRunningCalls() {
      deadline?.expireNow();
    },
  };
}
