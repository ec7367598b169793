import type { StreamDirector } from '@grpc-proxy/handler';
import type { Logger } from 'pino';
import {
  createBackendGroup,
  memberName,
  type BackendGroup,
  type TargetHealthChange,
} from './backends';
import { createConfigDirector } from './config-director';
import type { ResolvedProxyConfig } from './config/types';
import { startAdminServer, type AdminServer } from './admin';
import { grpcJsServer, http2Server, type EngineServer } from './engine-server';
import { limitOptions } from './limits';
import { combineObservers, createCallLogger, createLogger, passiveHealthReporter } from './logging';
import { createProxyMetrics, type ProxyMetrics } from './metrics';
import { compileRoutes } from './routing';

export { SHUTDOWN_MESSAGE } from './engine-server';

/** Options of {@link startProxy}. */
export interface StartProxyOptions {
  /** Logger. Default: pino at the config's level, JSON (pretty on a terminal). */
  logger?: Logger;
  /** Metrics. Default: a fresh {@link createProxyMetrics} registry. */
  metrics?: ProxyMetrics;
  /** Called on every health change of a health-checked target (after metrics and logs). Default: none. */
  onHealthChange?: (change: TargetHealthChange) => void;
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
  /** Every listen address, with real ports, in config order. */
  readonly addresses: readonly string[];
  /** The admin listener's address, when one is configured. */
  readonly adminAddress?: string;
  /** The proxy's metrics (the registry `/metrics` serves). */
  readonly metrics: ProxyMetrics;
  /** The director built from the config's backends and routes. */
  readonly director: StreamDirector;
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

/** Waits for the first health answers of every group, for at most `limitMs`. */
async function firstHealthAnswers(groups: readonly BackendGroup[], limitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
  await Promise.race([Promise.all(groups.map((group) => group.ready())), limit]);
  clearTimeout(timer);
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
  readonly groups: readonly BackendGroup[];
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
  running.groups.forEach((group) => group.close());
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
  const limits = limitOptions(config.limits);
  const channel = { ...limits.messages, channelOptions: limits.channelOptions };
  const onAvailabilityChange = passiveHealthReporter(metrics, logger);
  const groups = config.backends.map((backend) =>
    createBackendGroup(backend, channel, onHealthChange, onAvailabilityChange),
  );
  for (const backend of config.backends) {
    for (const target of backend.targets) {
      metrics.addTarget(memberName(backend.name, target), backend.name, target);
      // Health-checked targets count as down until their first SERVING answer.
      if (backend.healthCheck) metrics.setBackendHealth(backend.name, target, false);
    }
  }
  const director = createConfigDirector(
    compileRoutes(config.routes, config.defaultBackend),
    new Map(groups.map((group) => [group.name, group.director])),
  );
  const healthTimeouts = config.backends.map((backend) => backend.healthCheck?.timeoutMs ?? 0);
  await firstHealthAnswers(groups, Math.max(0, ...healthTimeouts));

  let server: EngineServer;
  try {
    const startEngine = config.engine === 'http2' ? http2Server : grpcJsServer;
    server = startEngine({
      config,
      director,
      observer: combineObservers(metrics.observer, createCallLogger(logger)),
    });
  } catch (error) {
    groups.forEach((group) => group.close());
    throw error;
  }

  let draining = false;
  const notReadyReason = () => {
    if (draining) return 'draining';
    const down = groups.filter((group) => !group.director.isAvailable()).map((group) => group.name);
    return down.length > 0 ? `no serving target in backend ${down.join(', ')}` : undefined;
  };
  let admin: AdminServer | undefined;
  const addresses: string[] = [];
  try {
    for (const address of config.listen) addresses.push(await server.listen(address));
    if (config.admin) {
      admin = await startAdminServer(config.admin.listen, {
        registry: metrics.registry,
        notReadyReason,
      });
    }
  } catch (error) {
    server.abort();
    groups.forEach((group) => group.close());
    throw error;
  }
  logger.info(
    { addresses, admin: admin?.address, backends: config.backends.map((backend) => backend.name) },
    'grpc-proxy listening',
  );

  let closing: Promise<DrainSummary> | undefined;
  let deadline: ReturnType<typeof drainDeadline> | undefined;
  return {
    address: addresses[0],
    addresses,
    ...(admin && { adminAddress: admin.address }),
    metrics,
    director,
    notReadyReason,
    close(drainTimeoutMs = config.shutdown.drainTimeoutMs) {
      if (closing === undefined) {
        draining = true;
        deadline = drainDeadline(drainTimeoutMs);
        const stopped = deadline;
        closing = drain({ server, groups, admin, logger }, stopped.promise, drainTimeoutMs).finally(
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
