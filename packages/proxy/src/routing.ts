import type { ResolvedFanOut, ResolvedMirror, ResolvedRoute } from './config/types';

/** Reads the text values of one metadata key (grpc-js `Metadata.get` fits, after a string filter). */
export type MetadataValues = (key: string) => readonly string[];

/** What a compiled route table needs to know of a call. */
export interface RoutableCall {
  /** Full method name, `/pkg.Service/Method`. */
  readonly method: string;
  /** Text values of a metadata key (empty when absent). */
  readonly metadataValues: MetadataValues;
}

/** Where a route sends its calls: a backend name, or a fan-out over several. */
export type RouteDestination = string | ResolvedFanOut;

/**
 * Picks a backend name (or a route's fan-out) for a call, or `undefined` when nothing matches
 * and there is no default.
 */
export type RouteTable = (call: RoutableCall) => RouteDestination | undefined;

function serviceOf(method: string): string {
  const slash = method.indexOf('/', 1);
  return slash === -1 ? '' : method.slice(1, slash);
}

function matches(route: ResolvedRoute, call: RoutableCall): boolean {
  if (route.method !== undefined && route.method !== call.method) return false;
  if (route.service !== undefined && route.service !== serviceOf(call.method)) return false;
  for (const [key, accepted] of Object.entries(route.metadata ?? {})) {
    const values = call.metadataValues(key);
    // Only the first value counts, as in the director package's byMetadata: a client cannot
    // pick a route by adding a second value.
    if (values.length === 0 || !accepted.includes(values[0])) return false;
  }
  return true;
}

/**
 * Compiles the config's routes into a lookup: rules are tried in order and the first whose
 * every condition holds wins (service, method, and each metadata key's first value being one of
 * the listed values), giving its `backend` or its `fanOut` (the same object each time); no match
 * gives `defaultBackend`. Pure: no I/O, no grpc-js.
 */
export function compileRoutes(
  routes: readonly ResolvedRoute[],
  defaultBackend?: string,
): RouteTable {
  const rules = routes.map((route) => ({ ...route }));
  return (call) => {
    const rule = rules.find((each) => matches(each, call));
    return rule === undefined ? defaultBackend : (rule.backend ?? rule.fanOut);
  };
}

/** Picks the mirrors of a call (possibly none), by the same rules as its {@link RouteTable}. */
export type MirrorTable = (call: RoutableCall) => readonly ResolvedMirror[];

const NO_MIRRORS: readonly ResolvedMirror[] = [];

/**
 * Compiles the config's mirrors: the first route whose every condition holds gives its `mirror`;
 * a call whose route has none (or that no route matches) gets `defaultMirror`. Undefined when
 * the config has no mirror at all, so that calls pay nothing for the feature.
 */
export function compileMirrors(
  routes: readonly ResolvedRoute[],
  defaultMirror: readonly ResolvedMirror[],
): MirrorTable | undefined {
  if (defaultMirror.length === 0 && routes.every((route) => route.mirror === undefined)) {
    return undefined;
  }
  const rules = routes.map((route) => ({ ...route }));
  const fallback = defaultMirror.length === 0 ? NO_MIRRORS : [...defaultMirror];
  return (call) => rules.find((rule) => matches(rule, call))?.mirror ?? fallback;
}
