import { Metadata } from '@grpc/grpc-js';
import type { Backend, ProxyCall, Route } from '@grpc-proxy/handler';
import type { HealthCheckedSet, HealthStatus } from '../index';

/** A ProxyCall as the engine would pass it, for calling a director directly. */
export function proxyCall(method: string, entries: Record<string, string> = {}): ProxyCall {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.add(key, value);
  const slash = method.indexOf('/', 1);
  return {
    method,
    service: slash > 1 ? method.slice(1, slash) : '',
    metadata,
    peer: 'ipv4:127.0.0.1:1',
    authority: 'proxy.test',
    deadline: Infinity,
    signal: new AbortController().signal,
  };
}

/** The name of the backend a director picked (directors here route to named backends only). */
export async function pickedName(route: Route | Promise<Route>): Promise<string> {
  const { backend } = await route;
  return (backend as Backend).name;
}

/** Resolves on the next `change` of `backend` to `status` (no sleeps: the event is the signal). */
export function nextStatus(
  set: HealthCheckedSet,
  backend: Backend,
  status: HealthStatus,
): Promise<void> {
  if (set.statusOf(backend) === status) return Promise.resolve();
  return new Promise((resolve) => {
    const listener = (changed: Backend, now: HealthStatus) => {
      if (changed !== backend || now !== status) return;
      set.off('change', listener);
      resolve();
    };
    set.on('change', listener);
  });
}

/** Matches a thrown or rejected `ProxyStatusError` on its code and message both. */
export function statusError(code: number, details: string) {
  return expect.objectContaining({ name: 'ProxyStatusError', code, details });
}
