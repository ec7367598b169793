import { status } from '@grpc/grpc-js';
import type { ProxyCall, Route } from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import type { BackendSet, ComposedDirector, RouteTarget } from './route-target';
import {
  composeDirector,
  describeTarget,
  isBackendSet,
  isTargetAvailable,
  routeTo,
} from './route-target';

interface Candidate {
  readonly target: RouteTarget;
  available(): boolean;
}

/**
 * Strict rotation over the targets that are available now: with `a, b, c` all available the
 * calls go `a, b, c, a, b, c...`; a target that is unavailable is skipped and the rotation
 * carries on after the one chosen.
 *
 * `targets` is either
 * - a list of targets (backends, directors such as other helpers, backend sets): a target is
 *   skipped while its `isAvailable()` says false (a set with no serving member, a nested
 *   `roundRobin` whose members are all down); plain backends and functions are always tried;
 * - or a backend set (e.g. `healthChecked([a, b])`): rotation over its members that are
 *   serving now.
 *
 * Nothing available: `UNAVAILABLE` at once, naming the method and the targets.
 * Owns its targets: `close()` closes them.
 */
export function roundRobin(targets: readonly RouteTarget[] | BackendSet): ComposedDirector {
  const candidates = toCandidates(targets);
  const name = isBackendSet(targets as RouteTarget)
    ? `roundRobin(${(targets as BackendSet).name})`
    : `roundRobin(${candidates.map((c) => describeTarget(c.target)).join(', ')})`;
  const owned: RouteTarget[] = isBackendSet(targets as RouteTarget)
    ? [targets as BackendSet]
    : [...(targets as readonly RouteTarget[])];
  // A set names its members' statuses in its own UNAVAILABLE message.
  const whenNoneAvailable = isBackendSet(targets as RouteTarget)
    ? (call: ProxyCall) => (targets as BackendSet).route(call)
    : (call: ProxyCall): Route => {
        throw new ProxyStatusError(
          status.UNAVAILABLE,
          `no backend available for ${call.method} in ${name}`,
        );
      };
  let next = 0;

  const pick = (): Candidate | undefined => {
    for (let offset = 0; offset < candidates.length; offset++) {
      const index = (next + offset) % candidates.length;
      const candidate = candidates[index];
      if (candidate.available()) {
        next = (index + 1) % candidates.length;
        return candidate;
      }
    }
    return undefined;
  };
  const direct = (call: ProxyCall): Route | Promise<Route> => {
    const chosen = pick();
    if (chosen === undefined) return whenNoneAvailable(call);
    return routeTo(chosen.target, call);
  };
  const anyAvailable = () => candidates.some((c) => c.available());
  return composeDirector(name, owned, direct, anyAvailable);
}

function toCandidates(targets: readonly RouteTarget[] | BackendSet): Candidate[] {
  if (isBackendSet(targets as RouteTarget)) {
    const set = targets as BackendSet;
    return set.backends.map((backend) => ({
      target: backend,
      available: () => set.isServing(backend),
    }));
  }
  const list = targets as readonly RouteTarget[];
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('roundRobin: needs a non-empty list of targets or a backend set');
  }
  return list.map((target) => ({ target, available: () => isTargetAvailable(target) }));
}
