import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { BackendChannelOptions, ProxyCall, Route } from '@grpc-proxy/handler';
import { isThenable } from '@grpc-proxy/handler/engine';
import type { BackendGroup } from './backends';
import type { RoutableGroup } from './config-director';
import type { ResolvedBackend } from './config/types';

/** One backend group as the pool keeps it, shared by every config generation that uses it. */
interface PooledGroup {
  readonly key: string;
  readonly backend: ResolvedBackend;
  readonly group: BackendGroup;
  /** Routes the group's director gave and the engines have not released yet. */
  routes: number;
  /** Config generations (the running one, and replaced ones) that name the group. */
  users: number;
  /** The group's director, counting routes so that a retired group closes once idle. */
  readonly director: RoutableGroup;
}

/** The backend groups of one config generation, by backend name. */
export interface PooledGroups {
  /** Each backend's group, by config name. */
  readonly groups: ReadonlyMap<string, BackendGroup>;
  /** Each backend's director (routes counted), by config name. */
  readonly directors: ReadonlyMap<string, RoutableGroup>;
  /** Names of the backends whose group was made for this generation (not reused). */
  readonly created: readonly string[];
}

/**
 * What makes two backends the same: their resolved definition, the channel options (message
 * limits, keepalive), and the contents of their TLS files (a rotated CA makes a new group).
 */
function definitionKey(backend: ResolvedBackend, channel: BackendChannelOptions): string {
  const files = [backend.tls?.ca, backend.tls?.cert, backend.tls?.key].map((file) => {
    if (file === undefined) return null;
    try {
      return createHash('sha256').update(readFileSync(file)).digest('hex');
    } catch {
      // Validation read the file a moment ago; a file gone since makes a new group, which fails.
      return 'unreadable';
    }
  });
  return JSON.stringify([backend, channel, files]);
}

/** Wraps a route so that its release (exactly once, as engines promise) is counted. */
function countedRoute(route: Route, onRelease: () => void): Route {
  let released = false;
  return {
    ...route,
    release(status) {
      if (released) return;
      released = true;
      try {
        route.release?.(status);
      } finally {
        onRelease();
      }
    },
  };
}

/**
 * The backend groups of the running config and of the configs it replaced, while their calls
 * run. A reload asks for the new config's groups: a backend whose definition did not change keeps
 * its group (its channels, connections and health state); a backend no generation names any more
 * is closed once the last route it gave is released, so calls in flight finish on it.
 */
export class BackendPool {
  private readonly byKey = new Map<string, PooledGroup>();

  /**
   * @param create - makes the group of a backend the pool does not have yet
   * @param onRetired - hears each group closed because no config names it and its calls ended
   */
  constructor(
    private readonly create: (
      backend: ResolvedBackend,
      channel: BackendChannelOptions,
    ) => BackendGroup,
    private readonly onRetired: (backend: ResolvedBackend) => void = () => undefined,
  ) {}

  /** The groups of `backends` for a new generation: reused where unchanged, created otherwise. */
  acquire(backends: readonly ResolvedBackend[], channel: BackendChannelOptions): PooledGroups {
    const groups = new Map<string, BackendGroup>();
    const directors = new Map<string, RoutableGroup>();
    const created: string[] = [];
    for (const backend of backends) {
      const key = definitionKey(backend, channel);
      let pooled = this.byKey.get(key);
      if (pooled === undefined) {
        pooled = this.pooled(key, backend, this.create(backend, channel));
        this.byKey.set(key, pooled);
        created.push(backend.name);
      }
      pooled.users += 1;
      groups.set(backend.name, pooled.group);
      directors.set(backend.name, pooled.director);
    }
    return { groups, directors, created };
  }

  /** A generation is over (replaced): its groups no other generation uses close once idle. */
  release(generation: PooledGroups): void {
    for (const group of generation.groups.values()) {
      const pooled = [...this.byKey.values()].find((each) => each.group === group);
      if (pooled === undefined) continue;
      pooled.users -= 1;
      this.closeIfIdle(pooled);
    }
  }

  /** Routes given and not released yet, over every group (replaced ones too). */
  get routesInFlight(): number {
    let total = 0;
    for (const pooled of this.byKey.values()) total += pooled.routes;
    return total;
  }

  /** Closes every group at once (the proxy stops). */
  closeAll(): void {
    for (const pooled of this.byKey.values()) pooled.group.close();
    this.byKey.clear();
  }

  private closeIfIdle(pooled: PooledGroup): void {
    if (pooled.users > 0 || pooled.routes > 0 || this.byKey.get(pooled.key) !== pooled) return;
    this.byKey.delete(pooled.key);
    pooled.group.close();
    this.onRetired(pooled.backend);
  }

  private pooled(key: string, backend: ResolvedBackend, group: BackendGroup): PooledGroup {
    const onRelease = () => {
      pooled.routes -= 1;
      this.closeIfIdle(pooled);
    };
    const counted = (route: Route): Route => {
      pooled.routes += 1;
      return countedRoute(route, onRelease);
    };
    const director = (call: ProxyCall): Route | PromiseLike<Route> => {
      const route = group.director(call);
      return isThenable<Route>(route) ? Promise.resolve(route).then(counted) : counted(route);
    };
    const pooled: PooledGroup = { key, backend, group, routes: 0, users: 0, director };
    return pooled;
  }
}
