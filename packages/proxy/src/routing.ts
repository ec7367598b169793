import type { ResolvedFanOut, ResolvedMirror, ResolvedRoute } from './config/types';
import { parseFieldPath, readField, type FieldPath } from './message-fields';

/** Reads the text values of one metadata key (grpc-js `Metadata.get` fits, after a string filter). */
export type MetadataValues = (key: string) => readonly string[];

/** What a compiled route table needs to know of a call. */
export interface RoutableCall {
  /** Full method name, `/pkg.Service/Method`. */
  readonly method: string;
  /** Text values of a metadata key (empty when absent). */
  readonly metadataValues: MetadataValues;
  /**
   * The call's first request message (`ProxyCall.firstMessage()`: `null` when the client
   * half-closed without one; rejected with the call's status when it ended first). Asked for
   * once, and only when a rule with a `message` condition has every other condition holding.
   * Absent: `message` conditions never hold.
   */
  readonly firstMessage?: () => Promise<Uint8Array | null>;
}

/**
 * A table's answer: a plain value while no rule with a `message` condition is reached (the
 * usual case, which pays nothing), a promise once one is, since its answer needs the call's
 * first message.
 */
export type MaybePromise<T> = T | Promise<T>;

/** Where a route sends its calls: a backend name, or a fan-out over several. */
export type RouteDestination = string | ResolvedFanOut;

/**
 * Picks a backend name (or a route's fan-out) for a call, or `undefined` when nothing matches
 * and there is no default; a promise of it once a rule with a `message` condition is reached.
 */
export type RouteTable = (call: RoutableCall) => MaybePromise<RouteDestination | undefined>;

function serviceOf(method: string): string {
  const slash = method.indexOf('/', 1);
  return slash === -1 ? '' : method.slice(1, slash);
}

/** One `routes[].message` entry, its path parsed (validation made sure it parses). */
interface FieldCondition {
  readonly path: FieldPath;
  readonly accepted: readonly string[];
}

/** A route with its message conditions parsed once, at compile time. */
interface Rule {
  readonly route: ResolvedRoute;
  readonly fields: readonly FieldCondition[] | undefined;
}

function compile(routes: readonly ResolvedRoute[]): Rule[] {
  return routes.map((route) => ({
    route: { ...route },
    fields:
      route.message === undefined
        ? undefined
        : Object.entries(route.message).map(([path, accepted]) => ({
            path: parseFieldPath(path),
            accepted: [...accepted],
          })),
  }));
}

/** The conditions that need no message: service, method, metadata. */
function matchesHeaders(route: ResolvedRoute, call: RoutableCall): boolean {
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

function matchesMessage(fields: readonly FieldCondition[], message: Uint8Array | null): boolean {
  if (message === null) return false;
  return fields.every(({ path, accepted }) => {
    const value = readField(message, path);
    return value !== undefined && accepted.includes(value);
  });
}

/**
 * The first rule whose every condition holds. Synchronous until a rule whose header conditions
 * hold has a `message` condition: from there on, the rules are tried against the first message.
 */
function firstMatch(rules: readonly Rule[], call: RoutableCall): MaybePromise<Rule | undefined> {
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index];
    if (!matchesHeaders(rule.route, call)) continue;
    if (rule.fields === undefined) return rule;
    return firstMatchWithMessage(rules, index, call);
  }
  return undefined;
}

async function firstMatchWithMessage(
  rules: readonly Rule[],
  from: number,
  call: RoutableCall,
): Promise<Rule | undefined> {
  // A rejection (the call ended first) propagates: the call ends with that status.
  const message = call.firstMessage === undefined ? null : await call.firstMessage();
  return rules.slice(from).find(({ route, fields }) => {
    if (!matchesHeaders(route, call)) return false;
    return fields === undefined || matchesMessage(fields, message);
  });
}

function mapMaybe<T, R>(value: MaybePromise<T>, map: (value: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(map) : map(value);
}

/**
 * Compiles the config's routes into a lookup: rules are tried in order and the first whose
 * every condition holds wins (service, method, each metadata key's first value being one of the
 * listed values, and each `message` field of the first request message being one of its
 * values), giving its `backend` or its `fanOut` (the same object each time); no match gives
 * `defaultBackend`. A rule's `message` condition is checked only once its other conditions
 * hold, so that other calls never wait for their first message. Pure: no I/O, no grpc-js.
 */
export function compileRoutes(
  routes: readonly ResolvedRoute[],
  defaultBackend?: string,
): RouteTable {
  const rules = compile(routes);
  const destinationOf = (rule: Rule | undefined): RouteDestination | undefined =>
    rule === undefined ? defaultBackend : (rule.route.backend ?? rule.route.fanOut);
  return (call) => mapMaybe(firstMatch(rules, call), destinationOf);
}

/**
 * Picks the mirrors of a call (possibly none), by the same rules as its {@link RouteTable}
 * (a promise of them once a rule with a `message` condition is reached).
 */
export type MirrorTable = (call: RoutableCall) => MaybePromise<readonly ResolvedMirror[]>;

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
  const rules = compile(routes);
  const fallback = defaultMirror.length === 0 ? NO_MIRRORS : [...defaultMirror];
  const mirrorsOf = (rule: Rule | undefined) => rule?.route.mirror ?? fallback;
  return (call) => mapMaybe(firstMatch(rules, call), mirrorsOf);
}
