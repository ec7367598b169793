import { status } from '@grpc/grpc-js';
import type { ProxyCall, Route } from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import type { ComposedDirector, RouteTarget } from './route-target';
import { composeDirector, mapRoute, routeTo } from './route-target';

/** Routes of {@link byMetadata}: a table of exact values, or a function of the value. */
export type MetadataRoutes =
  Readonly<Record<string, RouteTarget>> | ((value: string) => RouteTarget | undefined);

/** Options of {@link byMetadata}. */
export interface ByMetadataOptions {
  /**
   * Remove the routing key from the metadata forwarded to the backend, whatever the route
   * (including the fallback). Default: `true`.
   */
  strip?: boolean;
  /** Where calls go when the key is missing or its value has no route. Default: none (reject). */
  fallback?: RouteTarget;
}

const VALID_TEXT_KEY = /^[0-9a-z_.-]+$/;

/**
 * Routes each call on the first value of the metadata key `key`.
 *
 * - `routes` is a table (`{ blue: a, green: b }`, exact and case-sensitive match on the value)
 *   or a function returning the target for a value (or `undefined` for no route).
 * - The key is removed from the forwarded metadata unless `strip: false`.
 * - A missing key or a value without a route goes to `fallback`; without one, the call ends
 *   with `UNIMPLEMENTED` and a message naming the key and the value.
 *
 * Owns the targets in `routes` (when a table) and `fallback`: `close()` closes them.
 *
 * @param key a text metadata key (binary `-bin` keys are refused); matched case-insensitively
 *   as gRPC keys are.
 */
export function byMetadata(
  key: string,
  routes: MetadataRoutes,
  options: ByMetadataOptions = {},
): ComposedDirector {
  const routingKey = validateKey(key);
  const strip = options.strip ?? true;
  const { fallback } = options;
  const lookup = typeof routes === 'function' ? routes : tableLookup(routes);
  const owned = typeof routes === 'function' ? [] : Object.values(routes);
  if (fallback !== undefined) owned.push(fallback);

  const direct = (call: ProxyCall): Route | Promise<Route> => {
    const value = firstTextValue(call, routingKey);
    if (strip) call.metadata.remove(routingKey);
    const target = value === undefined ? undefined : lookup(value);
    const chosen = target ?? fallback;
    if (chosen === undefined) throw noRoute(routingKey, value);
    const route = routeTo(chosen, call);
    return strip ? mapRoute(route, (ready) => withoutKey(ready, routingKey)) : route;
  };
  return composeDirector(`byMetadata(${routingKey})`, owned, direct);
}

function validateKey(key: string): string {
  const normalized = typeof key === 'string' ? key.toLowerCase() : '';
  if (!VALID_TEXT_KEY.test(normalized) || normalized.endsWith('-bin')) {
    throw new TypeError(
      `byMetadata: ${JSON.stringify(key)} is not a valid text metadata key (lowercase letters, digits, "_", "-", "."; no "-bin" suffix)`,
    );
  }
  return normalized;
}

/** Own properties only: a client sending `constructor` or `__proto__` must not match. */
function tableLookup(table: Readonly<Record<string, RouteTarget>>) {
  const entries = new Map(Object.entries(table));
  return (value: string) => entries.get(value);
}

function firstTextValue(call: ProxyCall, key: string): string | undefined {
  const [first] = call.metadata.get(key);
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

function noRoute(key: string, value: string | undefined): ProxyStatusError {
  const details =
    value === undefined
      ? `no route: metadata key "${key}" is missing`
      : `no route for metadata key "${key}" value ${JSON.stringify(value)}`;
  return new ProxyStatusError(status.UNIMPLEMENTED, details);
}

/** A nested director may hand back its own metadata; the routing key must not slip through. */
function withoutKey(route: Route, key: string): Route {
  route.metadata?.remove(key);
  return route;
}
