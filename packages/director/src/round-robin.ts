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
  unavailableReason,
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
 *   skipped while its `isAvailable()` says false (a backend closed or out of rotation by
 *   passive health, a set with no serving member, a nested `roundRobin` whose members are all
 *   down); plain functions, clients and channels are always tried;
 * - or a backend set (e.g. `healthChecked([a, b])`): rotation over its members that are
 *   serving now.
 *
 * Nothing available: `UNAVAILABLE` at once, naming the method and each target with why it is
 * left out (`closed`, the connection error of a backend out of rotation by passive health,
 * `no serving member` for a set, `nothing available` for a director), e.g. `no backend available for /acme.v1.Echo/Get in
 * roundRobin(a, b) (a: connect ECONNREFUSED 10.0.0.1:50051, b: closed)`; a set names its members' statuses.
 * Owns its targets: `close()` closes them.
 */
export function roundRobin(targets: readonly RouteTarget[] | BackendSet): ComposedDirector {
  const set = isBackendSet(targets as RouteTarget) ? (targets as BackendSet) : undefined;
  const candidates = set ? setCandidates(set) : listCandidates(targets as readonly RouteTarget[]);
  const name = `roundRobin(${set ? set.name : candidates.map((c) => describeTarget(c.target)).join(', ')})`;
  const owned: readonly RouteTarget[] = set ? [set] : (targets as readonly RouteTarget[]);
  // A set's own UNAVAILABLE message names each member's status.
  const noneAvailable = (call: ProxyCall): Route => {
    if (set) return set.route(call);
    const reasons = candidates
      .map(({ target }) => `${describeTarget(target)}: ${unavailableReason(target)}`)
      .join(', ');
    throw new ProxyStatusError(
      status.UNAVAILABLE,
      `no backend available for ${call.method} in ${name} (${reasons})`,
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
    return chosen === undefined ? noneAvailable(call) : routeTo(chosen.target, call);
  };
  const anyAvailable = () => candidates.some((candidate) => candidate.available());
  return composeDirector(name, owned, direct, anyAvailable);
}

function setCandidates(set: BackendSet): Candidate[] {
  return set.backends.map((backend) => ({
    target: backend,
    available: () => set.isServing(backend),
  }));
}

function listCandidates(list: readonly RouteTarget[]): Candidate[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new TypeError('roundRobin: needs a non-empty list of targets or a backend set');
  }
  return list.map((target) => ({ target, available: () => isTargetAvailable(target) }));
}
