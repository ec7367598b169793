import { status } from '@grpc/grpc-js';
import type { Backend, ProxyCall, Route, RouteBackend, StreamDirector } from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import { isThenable } from '@grpc-proxy/handler/engine';

/**
 * A group of backends whose members come and go, such as the set returned by `healthChecked`.
 * `roundRobin` rotates over its members that are serving now; `failover` (or the set used
 * directly as a route target) sends each call to its first serving member, in the given order.
 */
export interface BackendSet {
  /** Name used in error messages. */
  readonly name: string;
  /** The members, in the order given. */
  readonly backends: readonly Backend[];
  /** True while `backend` (a member) may take calls. */
  isServing(backend: Backend): boolean;
  /** True while at least one member may take calls. */
  isAvailable(): boolean;
  /** Routes to the first serving member; throws `UNAVAILABLE` when none is. */
  route(call: ProxyCall): Route;
  /** Releases everything the set owns. Idempotent. */
  close(): void;
}

/**
 * Where a helper may send a call: a backend (or a grpc-js `Client`/`Channel`), any
 * `StreamDirector` (including the helpers of this package, so they nest), or a backend set.
 */
export type RouteTarget = RouteBackend | StreamDirector | BackendSet;

/** A director returned by the helpers of this package: a `StreamDirector` that can be closed. */
export interface ComposedDirector {
  (call: ProxyCall): Route | Promise<Route>;
  /** Describes the director in error messages, e.g. `roundRobin(a, b)`. */
  readonly name: string;
  /** False when the director is sure to reject a call now (e.g. every member unhealthy). */
  isAvailable(): boolean;
  /** Closes every target the director was given (they are owned by it). Idempotent. */
  close(): void;
}

interface MaybeCloseable {
  close?: unknown;
  isAvailable?: unknown;
  name?: unknown;
}

/** True for a {@link BackendSet} (duck-typed so users can bring their own sets). */
export function isBackendSet(target: RouteTarget): target is BackendSet {
  const candidate = target as Partial<BackendSet>;
  return (
    typeof target === 'object' &&
    target !== null &&
    Array.isArray(candidate.backends) &&
    typeof candidate.isServing === 'function' &&
    typeof candidate.route === 'function'
  );
}

/** Turns a target into a route for `call`: backends route to themselves, directors are asked. */
export function routeTo(target: RouteTarget, call: ProxyCall): Route | Promise<Route> {
  if (typeof target === 'function') return target(call);
  if (isBackendSet(target)) return target.route(call);
  if ((target as { closed?: unknown }).closed === true) {
    throw new ProxyStatusError(status.UNAVAILABLE, `backend ${describeTarget(target)} is closed`);
  }
  return { backend: target };
}

/** Whether a target may take a call now; targets that cannot tell are assumed available. */
export function isTargetAvailable(target: RouteTarget): boolean {
  const check = (target as MaybeCloseable).isAvailable;
  return typeof check === 'function' ? Boolean(check.call(target)) : true;
}

/**
 * Why a target that is not available now is left out, for `UNAVAILABLE` messages: `closed`; for a
 * backend out of rotation by passive health, its connection error's message (what an operator
 * needs: refused, TLS, name resolution...) or `connection failed`; `no serving member` (a set);
 * `nothing available` (a director).
 */
export function unavailableReason(target: RouteTarget): string {
  if ((target as { closed?: unknown }).closed === true) return 'closed';
  if (typeof target === 'function') return 'nothing available';
  if (isBackendSet(target)) return 'no serving member';
  const error = (target as { connectionError?: { message?: unknown } }).connectionError;
  return typeof error?.message === 'string' && error.message !== ''
    ? error.message
    : 'connection failed';
}

/** Closes a target when it can be closed (backends, clients, channels, sets, helpers). */
export function closeTarget(target: RouteTarget): void {
  const close = (target as MaybeCloseable).close;
  if (typeof close === 'function') close.call(target);
}

/** A short name for error messages. */
export function describeTarget(target: RouteTarget): string {
  const name = (target as MaybeCloseable).name;
  if (typeof name === 'string' && name !== '') return name;
  const channel = target as {
    getTarget?: () => string;
    getChannel?: () => { getTarget(): string };
  };
  if (typeof channel.getTarget === 'function') return channel.getTarget();
  if (typeof channel.getChannel === 'function') return channel.getChannel().getTarget();
  return typeof target === 'function' ? 'director' : 'backend';
}

/**
 * Applies `change` to a route that may still be pending, without adding a promise when the
 * route is ready (directors run once per call; a needless promise costs a microtask each).
 */
export function mapRoute(
  route: Route | Promise<Route>,
  change: (route: Route) => Route,
): Route | Promise<Route> {
  return isThenable<Route>(route) ? Promise.resolve(route).then(change) : change(route);
}

/** Builds a {@link ComposedDirector} from its routing function and the targets it owns. */
export function composeDirector(
  name: string,
  owned: readonly RouteTarget[],
  direct: (call: ProxyCall) => Route | Promise<Route>,
  isAvailable: () => boolean = () => true,
): ComposedDirector {
  let closed = false;
  const director = ((call: ProxyCall) => {
    if (closed) throw new ProxyStatusError(status.UNAVAILABLE, `${name} is closed`);
    return direct(call);
  }) as ComposedDirector;
  Object.defineProperty(director, 'name', { value: name });
  Object.defineProperty(director, 'isAvailable', { value: () => !closed && isAvailable() });
  Object.defineProperty(director, 'close', {
    value: () => {
      if (closed) return;
      closed = true;
      for (const target of new Set(owned)) closeTarget(target);
    },
  });
  return director;
}
