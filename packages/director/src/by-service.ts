import { status } from '@grpc/grpc-js';
import type { ProxyCall, Route } from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import type { ComposedDirector, RouteTarget } from './route-target';
import { composeDirector, routeTo } from './route-target';

/**
 * Routes of {@link byService}, keyed by
 * - a full method `pkg.Service/Method` (a leading `/` is allowed),
 * - a service `pkg.Service`,
 * - a prefix wildcard `pkg.*` (any service whose name starts with `pkg.`),
 * - or `'*'` (every call).
 */
export type ServiceRoutes = Readonly<Record<string, RouteTarget>>;

interface CompiledRoutes {
  readonly exact: ReadonlyMap<string, RouteTarget>;
  /** Prefix wildcards, longest prefix first; `'*'` is the empty prefix and comes last. */
  readonly prefixes: readonly (readonly [string, RouteTarget])[];
}

/**
 * Routes each call on its method name. Precedence: exact `pkg.Service/Method`, then
 * `pkg.Service`, then the longest matching prefix wildcard `pkg.*`, then `'*'`. No match:
 * `UNIMPLEMENTED` naming the method.
 *
 * Owns the targets in `routes`: `close()` closes them.
 */
export function byService(routes: ServiceRoutes): ComposedDirector {
  const compiled = compile(routes);
  const direct = (call: ProxyCall): Route | Promise<Route> => {
    const target = match(compiled, call.method);
    if (target === undefined) {
      throw new ProxyStatusError(status.UNIMPLEMENTED, `no route for method ${call.method}`);
    }
    return routeTo(target, call);
  };
  return composeDirector('byService', Object.values(routes), direct);
}

function compile(routes: ServiceRoutes): CompiledRoutes {
  const exact = new Map<string, RouteTarget>();
  const prefixes: [string, RouteTarget][] = [];
  for (const [pattern, target] of Object.entries(routes)) {
    const key = pattern.startsWith('/') ? pattern.slice(1) : pattern;
    const star = key.indexOf('*');
    if (star === -1 && key !== '') exact.set(key, target);
    else if (star === key.length - 1 && (key === '*' || key.endsWith('.*'))) {
      prefixes.push([key.slice(0, -1), target]);
    } else {
      throw new TypeError(
        `byService: invalid route ${JSON.stringify(pattern)} (use "pkg.Service/Method", "pkg.Service", "pkg.*" or "*")`,
      );
    }
  }
  prefixes.sort(([a], [b]) => b.length - a.length);
  return { exact, prefixes };
}

function match(routes: CompiledRoutes, method: string): RouteTarget | undefined {
  const path = method.startsWith('/') ? method.slice(1) : method;
  const slash = path.indexOf('/');
  const service = slash === -1 ? path : path.slice(0, slash);
  const byExact = routes.exact.get(path) ?? (slash === -1 ? undefined : routes.exact.get(service));
  if (byExact !== undefined) return byExact;
  for (const [prefix, target] of routes.prefixes) {
    if (service.startsWith(prefix)) return target;
  }
  return undefined;
}
