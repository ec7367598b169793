import type { ChannelInterface as Channel, Client } from '@grpc/grpc-js';
import type { Backend, RouteBackend } from './contracts';

/** The structural part of a grpc-js channel the engine uses (public `Channel` interface). */
export type RawChannel = Pick<
  Channel,
  'createCall' | 'getTarget' | 'getConnectivityState' | 'watchConnectivityState'
>;

/** A route's backend reduced to what a call needs. */
export interface ResolvedBackend {
  readonly name: string;
  readonly channel: RawChannel;
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
 * Throws a `TypeError` for anything that is not a backend.
 */
export function resolveBackend(backend: RouteBackend): ResolvedBackend {
  if (backend === null || typeof backend !== 'object') {
    throw new TypeError(
      `route.backend must be a grpc-js Client, Channel or Backend, got ${String(backend)}`,
    );
  }
  if (isChannel(backend)) return { name: backend.getTarget(), channel: backend };
  if (isClient(backend)) {
    const channel = backend.getChannel();
    return { name: channel.getTarget(), channel };
  }
  if (isBackend(backend)) {
    const client = backend.client();
    return { name: backend.name, channel: client.getChannel() };
  }
  throw new TypeError(
    'route.backend must be a grpc-js Client, Channel or Backend (an object with client())',
  );
}
