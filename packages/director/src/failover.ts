import type { ProxyCall, Route } from '@grpc-proxy/handler';
import type { BackendSet, ComposedDirector } from './route-target';
import { composeDirector, isBackendSet } from './route-target';

/**
 * Failover over a backend set: every call goes to the set's first serving member, in the order
 * the members were given, so the later members take traffic only while the earlier ones are
 * down. With `healthChecked([primary, standby])`, calls go to `primary` while it is `SERVING`
 * and to `standby` otherwise.
 *
 * No serving member: the set's own `UNAVAILABLE` (for `healthChecked`, naming the method, the
 * set and each member's status), at once. Named `failover(<set name>)`; `isAvailable()` is the
 * set's. Owns the set: `close()` closes it (its health calls, timers and backends).
 */
export function failover(set: BackendSet): ComposedDirector {
  if (!isBackendSet(set)) {
    throw new TypeError('failover: needs a backend set, e.g. healthChecked([a, b])');
  }
  const direct = (call: ProxyCall): Route => {
    const backend = set.backends.find((member) => set.isServing(member));
    return backend === undefined ? set.route(call) : { backend };
  };
  return composeDirector(`failover(${set.name})`, [set], direct, () => set.isAvailable());
}
