import {
  propagate,
  type status,
  type ChannelInterface as Channel,
  type Client,
  type StatusObject,
} from '@grpc/grpc-js';
import type { Backend, Route, RouteBackend } from './contracts';
import { describeError } from './status-error';
import { safely } from './warnings';

/** The structural part of a grpc-js channel the engine uses (public `Channel` interface). */
export type RawChannel = Pick<
  Channel,
  'createCall' | 'getTarget' | 'getConnectivityState' | 'watchConnectivityState'
>;

/** A raw backend call, as `Channel.createCall` returns it. */
export type RawCall = ReturnType<RawChannel['createCall']>;

/** A route's backend reduced to what a call needs: its name and the channel calls are made on. */
export interface BackendChannel {
  readonly name: string;
  readonly channel: RawChannel;
}

/**
 * A `Backend` whose `client()` threw (closed pool, connection set-up failed, ...): an
 * availability problem of that backend, not a bad route. `cause` is what `client()` threw.
 */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';

  constructor(
    /** The backend's `name`. */
    readonly backendName: string,
    cause: unknown,
  ) {
    super(`backend ${backendName} unavailable: ${describeError(cause)}`, { cause });
  }
}

function isChannel(backend: RouteBackend): backend is Channel {
  return typeof (backend as Partial<Channel>).createCall === 'function';
}

function isClient(backend: RouteBackend): backend is Client {
  return typeof (backend as Partial<Client>).getChannel === 'function';
}

function isBackend(backend: RouteBackend): backend is Backend {
  return typeof (backend as Partial<Backend>).client === 'function';
}

/**
 * Finds the channel raw calls are made on. A `Client`'s own interceptors are not applied: the
 * engine calls its channel directly (that is what keeps payloads as raw bytes without a copy).
 * Throws a `TypeError` for anything that is not a backend, and a {@link BackendUnavailableError}
 * when a `Backend`'s `client()` throws.
 */
export function resolveBackend(backend: RouteBackend): BackendChannel {
  checkObject(backend);
  if (isChannel(backend)) return { name: backend.getTarget(), channel: backend };
  if (isClient(backend)) {
    const channel = backend.getChannel();
    return { name: channel.getTarget(), channel };
  }
  if (isBackend(backend)) {
    const name = String(backend.name);
    let client: Client;
    try {
      client = backend.client();
    } catch (error) {
      throw new BackendUnavailableError(name, error);
    }
    if (typeof (client as Partial<Client> | null)?.getChannel !== 'function') {
      throw new TypeError(`Backend ${name}: client() returned no grpc-js Client`);
    }
    return { name, channel: client.getChannel() };
  }
  return notABackend();
}

function checkObject(backend: RouteBackend): void {
  if (backend === null || typeof backend !== 'object') {
    throw new TypeError(
      `route.backend must be a grpc-js Client, Channel or Backend, got ${String(backend)}`,
    );
  }
}

function notABackend(): never {
  throw new TypeError(
    'route.backend must be a grpc-js Client, Channel or Backend (an object with client())',
  );
}

/**
 * The name {@link resolveBackend} gives `backend`, without making a client (a `Backend`'s
 * `client()` is not called). Throws the same `TypeError` for anything that is not a backend.
 */
export function routeBackendName(backend: RouteBackend): string {
  checkObject(backend);
  if (isChannel(backend)) return backend.getTarget();
  if (isClient(backend)) return backend.getChannel().getTarget();
  if (isBackend(backend)) return String(backend.name);
  return notABackend();
}

/**
 * Makes `route`'s call of `method` on `channel` (not started), a child of the client's call
 * `parent` (deadline and cancellation propagate by default). Throws a `TypeError` when grpc-js
 * rejects the route's call options.
 */
export function createBackendCall(
  channel: RawChannel,
  route: Route,
  method: string,
  parent: Parameters<RawChannel['createCall']>[3],
): RawCall {
  const callOptions = route.callOptions;
  const call = channel.createCall(
    method,
    callOptions?.deadline ?? Infinity,
    callOptions?.host,
    parent,
    callOptions?.propagate_flags ?? propagate.DEFAULTS,
  );
  if (callOptions?.credentials) call.setCredentials(callOptions.credentials);
  return call;
}

/** Calls `route.release` with `final`; what it throws is a warning, never the call's end. */
export function releaseRoute(route: Route, final: StatusObject): void {
  if (typeof route.release === 'function') safely('route.release', () => route.release?.(final));
}

/**
 * Cancels a raw backend call, also one whose stream grpc-js has not made yet. grpc-js (1.14)
 * makes a call's stream a few microtasks after `start()` (once its metadata filters ran), or when
 * its channel's name resolution completes, without checking whether the call was cancelled
 * meanwhile: a cancel in the same turn as `start()` (a fan-out leg cut by another leg's failure
 * that turn) left the backend a stream never reset, and its connection open after every close.
 * The second cancel, a turn later, reaches the stream made in between.
 */
export function cancelRawCall(call: RawCall, code: status, details: string): void {
  call.cancelWithStatus(code, details);
  setImmediate(() => call.cancelWithStatus(code, details));
}
