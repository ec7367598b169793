import type { Backend, FanOutMember, ProxyCall, Route } from '@grpc-proxy/handler';
import { directorRejection, isThenable } from '@grpc-proxy/handler/engine';
import type { RoutableGroup } from './config-director';
import type { ResolvedFanOut } from './config/types';

/** The name of a config fan-out: its `name`, else `fan-out(a,b)` after its backends. */
export function fanOutName(fanOut: ResolvedFanOut): string {
  return fanOut.name ?? `fan-out(${fanOut.backends.join(',')})`;
}

/**
 * A backend group that gave no target for a fan-out call (none available, or the group failed):
 * a member that says it is out of rotation, so the engine fails that one leg at once with
 * `UNAVAILABLE` `grpc-proxy: backend <group> unavailable: <why>`, and `onError` decides what that
 * does to the call (`skip` carries on with the others), as for any leg that failed.
 */
function unreachableMember(name: string, error: unknown): Backend {
  const connectionError = new Error(directorRejection(error)?.details ?? String(error));
  return {
    name,
    connectionError,
    isAvailable: () => false,
    client() {
      throw connectionError;
    },
  };
}

/** A group's route for one leg: the route it gave, or (it gave none) an unreachable member. */
function legRoute(
  name: string,
  group: RoutableGroup | undefined,
  call: ProxyCall,
): Route | PromiseLike<Route> {
  const unreachable = (error: unknown): Route => ({ backend: unreachableMember(name, error) });
  if (group === undefined) return unreachable(new Error(`no backend group ${name}`));
  try {
    const route = group(call);
    return isThenable<Route>(route) ? Promise.resolve(route).catch(unreachable) : route;
  } catch (error) {
    return unreachable(error);
  }
}

/** The fan-out route made of one route per leg: each leg's route released with the call's status. */
function fanOutRoute(fanOut: ResolvedFanOut, name: string, legs: readonly Route[]): Route {
  return {
    backend: {
      name,
      fanOut: {
        // A group gives a plain target (a backend of its own), never a fan-out.
        backends: legs.map((leg) => leg.backend as FanOutMember),
        responses: fanOut.responses,
        onError: fanOut.onError,
      },
    },
    release(status) {
      for (const leg of legs) leg.release?.(status);
    },
  };
}

/**
 * The group of a config route's `fanOut`: for each call, each named backend's group picks one
 * target (as for a call of its own: balancing, health, the pool's route counts), and the route
 * is a `FanOutBackend` over those targets (name: {@link fanOutName}). Its release releases every
 * leg's route once, with the call's final status.
 *
 * @param fanOut - the resolved `routes[].fanOut`
 * @param groups - each backend's director, by config name
 */
export function fanOutGroup(
  fanOut: ResolvedFanOut,
  groups: ReadonlyMap<string, RoutableGroup>,
): RoutableGroup {
  const name = fanOutName(fanOut);
  return (call) => {
    const legs = fanOut.backends.map((backend) => legRoute(backend, groups.get(backend), call));
    if (!legs.some((leg) => isThenable(leg))) {
      return fanOutRoute(fanOut, name, legs as Route[]);
    }
    return Promise.all(legs).then((routes) => fanOutRoute(fanOut, name, routes));
  };
}
