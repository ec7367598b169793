import { status, type Metadata } from '@grpc/grpc-js';
import {
  ProxyStatusError,
  type ProxyCall,
  type Route,
  type StreamDirector,
} from '@grpc-proxy/handler';
import { directorRejection, isThenable } from '@grpc-proxy/handler/engine';
import type { ResolvedFanOut } from './config/types';
import type { RoutableCall, RouteDestination, RouteTable } from './routing';

/** The part of a backend group the config director uses. */
export interface RoutableGroup {
  /** Routes a call to one of the group's targets. */
  (call: ProxyCall): Route | PromiseLike<Route>;
}

function textValues(metadata: Metadata, key: string): string[] {
  return metadata.get(key).filter((value): value is string => typeof value === 'string');
}

/**
 * What the route tables read of a call: its method, its text metadata values, and (only for a
 * rule with a `message` condition) its first message, which the engines read once per call.
 */
export function routableCall(call: ProxyCall): RoutableCall {
  return {
    method: call.method,
    metadataValues: (key) => textValues(call.metadata, key),
    firstMessage: () => call.firstMessage(),
  };
}

const PREFIX = 'grpc-proxy: ';

/**
 * A group's own rejection (e.g. "no backend available ...") with the proxy's name in front, so
 * that clients can tell it from a backend's status with the same code.
 */
function prefixDirectorError(error: unknown): unknown {
  const rejection = directorRejection(error);
  if (rejection === null || rejection.details.startsWith(PREFIX)) return error;
  return new ProxyStatusError(rejection.code, PREFIX + rejection.details, rejection.metadata);
}

/** Asks the group for a route; a rejection, thrown or as a rejected thenable, gets the prefix. */
function routeViaGroup(group: RoutableGroup, call: ProxyCall): Route | Promise<Route> {
  let route: Route | PromiseLike<Route>;
  try {
    route = group(call);
  } catch (error) {
    throw prefixDirectorError(error);
  }
  if (!isThenable<Route>(route)) return route;
  return Promise.resolve(route).catch((error: unknown) =>
    Promise.reject(prefixDirectorError(error)),
  );
}

/**
 * The director of the `grpc-proxy` command: the route table picks a backend name, and that
 * backend's group picks a target. No route: `UNIMPLEMENTED` naming the method. Rejections of
 * the groups (no serving target...) keep their code and get `grpc-proxy: ` in front of their
 * message.
 *
 * @param table - compiled from the config's routes and default backend
 * @param groups - each backend's director, by config name (validation guarantees every name in
 *   the table has one)
 * @param fanOuts - the director of each route's fan-out (see `fanOutGroup`), by the table's
 *   fan-out objects. Default: none.
 */
export function createConfigDirector(
  table: RouteTable,
  groups: ReadonlyMap<string, RoutableGroup>,
  fanOuts: ReadonlyMap<ResolvedFanOut, RoutableGroup> = new Map(),
): StreamDirector {
  const routeTo = (call: ProxyCall, destination: RouteDestination | undefined) => {
    const group =
      destination === undefined
        ? undefined
        : typeof destination === 'string'
          ? groups.get(destination)
          : fanOuts.get(destination);
    if (group === undefined) {
      throw new ProxyStatusError(status.UNIMPLEMENTED, `${PREFIX}no route for ${call.method}`);
    }
    return routeViaGroup(group, call);
  };
  return (call) => {
    const destination = table(routableCall(call));
    // A promise only for a call that reached a `message` rule; its rejection (the call ended
    // before its first message) keeps the engine's status, unprefixed.
    if (destination instanceof Promise) return destination.then((each) => routeTo(call, each));
    return routeTo(call, destination);
  };
}
