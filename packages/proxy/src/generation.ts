import type { StreamDirector } from '@grpc-proxy/handler';
import { memberName, type BackendGroup } from './backends';
import type { BackendPool, PooledGroups } from './backend-pool';
import { createConfigDirector, routableCall } from './config-director';
import type { ResolvedProxyConfig } from './config/types';
import { limitOptions } from './limits';
import type { Logger } from 'pino';
import { combineObservers, createCallLogger } from './logging';
import type { ProxyMetrics } from './metrics';
import { fanOutGroup } from './fan-out-director';
import { skippedAsFailed, withConfigMirrors } from './mirror-director';
import { compileMirrors, compileRoutes } from './routing';

/**
 * One config as the running proxy serves it: its backend groups (from the pool, shared with other
 * generations where unchanged) and the director its routes make of them. A reload makes a new
 * generation and the engines ask it for every new call; calls in flight keep their old routes.
 */
export interface Generation {
  /** The config this generation serves (the running config, once it is current). */
  readonly config: ResolvedProxyConfig;
  /** Its backend groups, by name. */
  readonly pooled: PooledGroups;
  /** Routes a call by the config's route table to one of its groups. */
  readonly director: StreamDirector;
}

/** Waits for the first health answers of every group, for at most `limitMs`. */
export async function firstHealthAnswers(
  groups: readonly BackendGroup[],
  limitMs: number,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, limitMs)));
  await Promise.race([Promise.all(groups.map((group) => group.ready())), limit]);
  clearTimeout(timer);
}

/**
 * Builds the generation of `config`: its groups from `pool` (new targets added to the metrics,
 * health-checked ones counted down until their first answer) and its director. Resolves once the
 * new health-checked groups have answered, for at most their longest check timeout, so that a
 * reload does not route calls to a backend that has not been checked yet.
 */
export async function buildGeneration(
  config: ResolvedProxyConfig,
  pool: BackendPool,
  metrics: ProxyMetrics,
  logger: Logger,
): Promise<Generation> {
  const limits = limitOptions(config.limits);
  const pooled = pool.acquire(config.backends, {
    ...limits.messages,
    channelOptions: limits.channelOptions,
  });
  const created = config.backends.filter((backend) => pooled.created.includes(backend.name));
  for (const backend of created) {
    for (const target of backend.targets) {
      metrics.addTarget(memberName(backend.name, target), backend.name, target);
      // Health-checked targets count as down until their first SERVING answer.
      if (backend.healthCheck) metrics.setBackendHealth(backend.name, target, false);
    }
  }
  const fanOuts = new Map(
    config.routes.flatMap(({ fanOut }) =>
      fanOut === undefined ? [] : [[fanOut, fanOutGroup(fanOut, pooled.directors)] as const],
    ),
  );
  const routed = createConfigDirector(
    compileRoutes(config.routes, config.defaultBackend),
    pooled.directors,
    fanOuts,
  );
  const mirrors = compileMirrors(config.routes, config.mirror);
  const director =
    mirrors === undefined
      ? routed
      : withConfigMirrors(
          routed,
          mirrors,
          pooled.directors,
          routableCall,
          // Reported as the engines report the copies they made: counted and logged.
          skippedAsFailed(combineObservers(metrics.observer, createCallLogger(logger))),
        );
  const timeouts = created.map((backend) => backend.healthCheck?.timeoutMs ?? 0);
  const newGroups = created.flatMap((backend) => pooled.groups.get(backend.name) ?? []);
  await firstHealthAnswers(newGroups, Math.max(0, ...timeouts));
  return { config, pooled, director };
}

/**
 * Why a generation cannot take traffic (a backend with no target that may take calls), or
 * undefined. A backend only mirrors copy to does not count: a mirror never fails the calls; a
 * backend of a fan-out does.
 */
export function generationNotReady(generation: Generation): string | undefined {
  const { routes, defaultBackend, mirror } = generation.config;
  const mirrorOnly = new Set(
    [...mirror, ...routes.flatMap((route) => route.mirror ?? [])].map((each) => each.backend),
  );
  for (const route of routes) {
    const serving = route.fanOut?.backends ?? (route.backend === undefined ? [] : [route.backend]);
    for (const name of serving) mirrorOnly.delete(name);
  }
  if (defaultBackend !== undefined) mirrorOnly.delete(defaultBackend);
  const down = [...generation.pooled.groups]
    .filter(([name, group]) => !mirrorOnly.has(name) && !group.director.isAvailable())
    .map(([name]) => name);
  return down.length > 0 ? `no serving target in backend ${down.join(', ')}` : undefined;
}
