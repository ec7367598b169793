import { status } from '@grpc/grpc-js';
import type {
  CallObserver,
  MirrorRoute,
  ProxyCall,
  Route,
  StreamDirector,
} from '@grpc-proxy/handler';
import { directorRejection, isThenable } from '@grpc-proxy/handler/engine';
import type { RoutableGroup } from './config-director';
import type { ResolvedMirror } from './config/types';
import type { MirrorTable, RoutableCall } from './routing';

/**
 * Called when a sampled mirror gets no copy because its backend group gave no target (none
 * available, or the group failed): such a copy is never made, so the engine cannot report it.
 */
export type MirrorSkipped = (call: ProxyCall, backend: string, error: unknown) => void;

/**
 * Adds the config's mirrors to the routes of `director`: for each mirror of the call's route
 * (sampled here by its percent, so that a target is picked only for copies made), that mirror
 * backend's group picks a target, as for a call of its own. The route is copied, never changed.
 */
export function withConfigMirrors(
  director: StreamDirector,
  mirrors: MirrorTable,
  groups: ReadonlyMap<string, RoutableGroup>,
  routable: (call: ProxyCall) => RoutableCall,
  onSkipped: MirrorSkipped,
): StreamDirector {
  const mirrorsOf = (call: ProxyCall): Promise<MirrorRoute[]> | MirrorRoute[] => {
    const listed = mirrors(routable(call));
    // A promise only for a call that reached a `message` rule (see compileMirrors).
    if (listed instanceof Promise) return listed.then((list) => pick(call, list));
    return pick(call, listed);
  };
  const pick = (
    call: ProxyCall,
    listed: readonly ResolvedMirror[],
  ): Promise<MirrorRoute[]> | MirrorRoute[] => {
    const picked: Array<MirrorRoute | PromiseLike<MirrorRoute | undefined> | undefined> = [];
    for (const mirror of listed) {
      if (sampled(mirror)) picked.push(mirrorTarget(call, mirror.backend, groups, onSkipped));
    }
    if (!picked.some((each) => isThenable(each))) return picked.filter(isMirror);
    return Promise.all(picked).then((all) => all.filter(isMirror));
  };
  return (call) => {
    const route = director(call);
    if (isThenable<Route>(route)) return Promise.resolve(route).then((r) => addTo(r, call));
    return addTo(route, call);
  };

  function addTo(route: Route, call: ProxyCall): Route | Promise<Route> {
    const added = mirrorsOf(call);
    if (!Array.isArray(added)) return added.then((list) => withMirrors(route, list));
    return withMirrors(route, added);
  }
}

function sampled({ percent }: ResolvedMirror): boolean {
  return percent >= 100 || Math.random() * 100 < percent;
}

function isMirror(mirror: unknown): mirror is MirrorRoute {
  return mirror !== undefined && !isThenable(mirror);
}

/** One target of the mirror's group, as the copy's backend; undefined (reported) when none. */
function mirrorTarget(
  call: ProxyCall,
  name: string,
  groups: ReadonlyMap<string, RoutableGroup>,
  onSkipped: MirrorSkipped,
): MirrorRoute | PromiseLike<MirrorRoute | undefined> | undefined {
  const skip = (error: unknown): undefined => {
    onSkipped(call, name, error);
    return undefined;
  };
  const group = groups.get(name);
  if (group === undefined) return skip(new Error(`no backend group ${name}`));
  try {
    const route = group(call);
    if (!isThenable<Route>(route)) return { backend: route.backend };
    return Promise.resolve(route).then(({ backend }) => ({ backend }), skip);
  } catch (error) {
    return skip(error);
  }
}

/** The group routes carry no mirror of their own: the copies are the route's only mirrors. */
function withMirrors(route: Route, added: readonly MirrorRoute[]): Route {
  return added.length === 0 ? route : { ...route, mirror: added };
}

/**
 * Reports a copy that was not made to `observer` as a `failed` mirror copy, with the group's
 * status (e.g. `UNAVAILABLE` "no backend available ..."), as the engine reports copies it made.
 */
export function skippedAsFailed(observer: CallObserver): MirrorSkipped {
  return (call, backend, error) => {
    const rejection = directorRejection(error);
    observer.onMirrorEnd?.({
      method: call.method,
      backend,
      outcome: 'failed',
      code: rejection?.code ?? status.UNAVAILABLE,
      details: rejection?.details ?? String(error),
    });
  };
}
