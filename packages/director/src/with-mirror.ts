import type { MirrorRoute, ProxyCall, Route, StreamDirector } from '@grpc-proxy/handler';
import { isThenable } from '@grpc-proxy/handler/engine';

/**
 * Adds shadow traffic to any director: every route it gives also mirrors its calls to `mirrors`
 * (appended after the mirrors the route already has; each copied with its `percent` chance,
 * default 100, sampled per call by the engine — see `Route.mirror`). The engine copies the call
 * to each mirror with its mirror header (default `x-grpc-proxy-mirror: 1`) and discards the
 * mirror's replies; a mirror never slows, changes or fails the call.
 *
 * The director's route is never mutated (directors may hand out a shared route object): a copy
 * is returned, whose `release` calls the original's (with the original route as `this`).
 * Rejections of the director pass through unchanged. The returned director keeps the given
 * director's `name`, `isAvailable()` and `close()` when it has them (so it nests in
 * `roundRobin` and closes what the director owns); it does not own the mirror backends: close
 * them yourself.
 *
 * @param director - any `StreamDirector`, e.g. a helper of this package
 * @param mirrors - one mirror or a list; a list may be empty (the routes are then unchanged)
 * @throws TypeError at creation for a mirror without a backend or a percent outside 0 to 100
 */
export function withMirror(
  director: StreamDirector,
  mirrors: MirrorRoute | readonly MirrorRoute[],
): StreamDirector {
  const added: readonly MirrorRoute[] = Array.isArray(mirrors)
    ? [...(mirrors as readonly MirrorRoute[])]
    : [mirrors as MirrorRoute];
  added.forEach(checkMirror);
  const mirrored = (call: ProxyCall): Route | Promise<Route> => {
    const route = director(call);
    if (isThenable<Route>(route)) return Promise.resolve(route).then((r) => addMirrors(r, added));
    return addMirrors(route, added);
  };
  return keepDirectorSurface(mirrored, director);
}

function checkMirror(mirror: MirrorRoute, index: number): void {
  if (mirror === null || typeof mirror !== 'object' || mirror.backend == null) {
    throw new TypeError(`withMirror: mirror ${index} needs a backend`);
  }
  const percent = mirror.percent ?? 100;
  if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) {
    throw new TypeError(
      `withMirror: mirror ${index} percent must be a number from 0 to 100, got ${String(percent)}`,
    );
  }
}

function addMirrors(route: Route, added: readonly MirrorRoute[]): Route {
  if (added.length === 0) return route;
  const own = route.mirror;
  const existing: readonly MirrorRoute[] =
    own === undefined ? [] : Array.isArray(own) ? own : [own as MirrorRoute];
  const copy: Route = { ...route, mirror: [...existing, ...added] };
  // A class route keeps release on its prototype: the spread above would not copy it.
  const release = route.release;
  if (typeof release === 'function') copy.release = (end) => release.call(route, end);
  return copy;
}

interface DirectorSurface {
  name?: unknown;
  isAvailable?: unknown;
  close?: unknown;
}

/** Carries a composed director's name, availability and close over to its wrapper. */
function keepDirectorSurface(wrapper: StreamDirector, director: StreamDirector): StreamDirector {
  const inner = director as StreamDirector & DirectorSurface;
  const surface: PropertyDescriptorMap = {};
  if (typeof inner.isAvailable === 'function') {
    const isAvailable = inner.isAvailable as () => boolean;
    surface.isAvailable = { value: () => isAvailable.call(director) };
  }
  if (typeof inner.close === 'function') {
    const close = inner.close as () => void;
    surface.close = { value: () => close.call(director) };
  }
  if (typeof inner.name === 'string' && inner.name !== '') {
    surface.name = { value: `withMirror(${inner.name})` };
  }
  return Object.defineProperties(wrapper, surface);
}
