import { status, type Metadata } from '@grpc/grpc-js';
import {
  ProxyStatusError,
  type ProxyCall,
  type Route,
  type StreamDirector,
} from '@grpc-proxy/handler';
import type { RouteTable } from './routing';

/** The part of a backend group the config director uses. */
export interface RoutableGroup {
  /** Routes a call to one of the group's targets. */
  (call: ProxyCall): Route | Promise<Route>;
}

function textValues(metadata: Metadata, key: string): string[] {
  return metadata.get(key).filter((value): value is string => typeof value === 'string');
}

/**
 * The director of the `grpc-proxy` command: the route table picks a backend name, and that
 * backend's group picks a target. No route: `UNIMPLEMENTED` naming the method.
 *
 * @param table - compiled from the config's routes and default backend
 * @param groups - each backend's director, by config name (validation guarantees every name in
 *   the table has one)
 */
export function createConfigDirector(
  table: RouteTable,
  groups: ReadonlyMap<string, RoutableGroup>,
): StreamDirector {
  return (call) => {
    const name = table({
      method: call.method,
      metadataValues: (key) => textValues(call.metadata, key),
    });
    const group = name === undefined ? undefined : groups.get(name);
    if (group === undefined) {
      throw new ProxyStatusError(status.UNIMPLEMENTED, `grpc-proxy: no route for ${call.method}`);
    }
    return group(call);
  };
}
