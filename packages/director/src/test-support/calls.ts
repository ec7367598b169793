import type { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { CallOutcome } from '@grpc-proxy/testing';
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
    firstMessage: () => Promise.resolve(null),
  };
}

/** The name of the backend a director picked (directors here route to named backends only). */
export async function pickedName(route: Route | Promise<Route>): Promise<string> {
  const { backend } = await route;
  return (backend as Backend).name;
}

/** Resolves once `backend`'s status in `set` is `health` (now or on a `change`), bounded. */
export function untilStatus(
  set: HealthCheckedSet,
  backend: Backend,
  health: HealthStatus,
): Promise<void> {
  return waitUntil(set as EventEmitter, 'change', () => set.statusOf(backend) === health);
}

/** Matches a thrown or rejected `ProxyStatusError` on its code and message both. */
export function statusError(code: status, details: string) {
  return expect.objectContaining({ name: 'ProxyStatusError', code, details });
}

/**
 * Resolves once `done()` holds, checked now and on each `event` of `emitter`; rejects after
 * `timeoutMs` naming what it waited for.
 */
export function waitUntil(
  emitter: EventEmitter,
  event: string,
  done: () => boolean,
  timeoutMs = 4000,
): Promise<void> {
  if (done()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!done()) return;
      clearTimeout(timer);
      emitter.off(event, check);
      resolve();
    };
    const timer = setTimeout(() => {
      emitter.off(event, check);
      reject(new Error(`no ${event} made the condition true within ${timeoutMs} ms: ${done}`));
    }, timeoutMs);
    emitter.on(event, check);
  });
}

/** Runs a call and returns the name of the one server that answered all its responses. */
export async function servedBy(outcome: Promise<CallOutcome>): Promise<string> {
  const { status: end, responses } = await outcome;
  expect(end).toMatchObject({ code: status.OK });
  const names = new Set(responses.map((response) => response.serverName));
  expect(names.size).toBe(1);
  return [...names][0];
}
