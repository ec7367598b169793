import type { ListenOptions } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * `listen()` options for `address`: `host:port`, `[v6]:port` or `unix:/path`. Port 0 picks a
 * free port. Throws a `TypeError` for anything else.
 */
export function listenOptions(address: string): ListenOptions {
  const unix = /^unix:(?:\/\/)?(\/.+)$/.exec(address);
  if (unix !== null) return { path: unix[1] };
  const tcp = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  if (tcp === null || Number(tcp[3]) > 65535) {
    throw new TypeError(
      `listen address must be host:port, [v6]:port or unix:/path, got ${JSON.stringify(address)}`,
    );
  }
  const host = tcp[1] ?? tcp[2];
  return { host: host === '' ? undefined : host, port: Number(tcp[3]) };
}

/** The address a server listens on, as clients dial it (`127.0.0.1:50051`, `[::1]:50051`, `unix:/p`). */
export function formatAddress(
  bound: AddressInfo | string | null,
  requested: ListenOptions,
): string {
  if (typeof bound === 'string') return `unix:${bound}`;
  if (bound === null) return requested.path === undefined ? '' : `unix:${requested.path}`;
  return bound.family === 'IPv6'
    ? `[${bound.address}]:${bound.port}`
    : `${bound.address}:${bound.port}`;
}
