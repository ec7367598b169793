import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ClientSessionOptions, SecureClientSessionOptions } from 'node:http2';
import type { BackendTls, Route, RouteBackend } from '@grpc-proxy/handler';

/** Where the engine sends a route's calls. */
export interface Http2Target {
  /** The backend's name, for messages and the observer. */
  readonly name: string;
  /** The target string; sessions are pooled by it (and by `tls`). */
  readonly target: string;
  /** TLS towards the target; plaintext h2c without. */
  readonly tls: BackendTls | undefined;
}

/** How to open an HTTP/2 session to a target, and the `:authority` its calls carry. */
export interface ConnectSpec {
  /** `http://host:port` or `https://host:port` (`localhost` for `unix:`). */
  readonly url: string;
  /** `host:port` as the target names it (never a resolved address); `localhost` for `unix:`. */
  readonly authority: string;
  readonly options: ClientSessionOptions | SecureClientSessionOptions;
  /**
   * The host name the pool resolves to all its addresses; `undefined` for an IP literal or a
   * `unix:` path (nothing to resolve).
   */
  readonly hostname: string | undefined;
}

const WHAT_TO_PASS =
  'give the http2 engine { name, target } or a backend of createBackend from @grpc-proxy/director (it has a target)';

/**
 * Refuses route options the engine cannot honour, rather than ignore them: grpc-js call
 * credentials (per-call auth metadata) would otherwise be dropped silently.
 */
export function checkRouteOptions(route: Route): void {
  if (route.callOptions?.credentials !== undefined) {
    throw new TypeError(
      'route.callOptions.credentials is not supported by the http2 engine: give the metadata in route.metadata',
    );
  }
}

/**
 * The target of a route's backend. Throws a `TypeError` naming what to pass instead for a grpc-js
 * `Client` or `Channel` (the engine opens its own connections and cannot use theirs) and for
 * anything else without a `target`.
 */
export function resolveTarget(backend: RouteBackend): Http2Target {
  if (backend === null || typeof backend !== 'object') {
    throw new TypeError(`route.backend must be an object with a target, got ${String(backend)}`);
  }
  const candidate = backend as { name?: unknown; target?: unknown; tls?: BackendTls };
  if (typeof candidate.target === 'string' && candidate.target !== '') {
    const name = typeof candidate.name === 'string' ? candidate.name : candidate.target;
    return { name, target: candidate.target, tls: candidate.tls ?? undefined };
  }
  if (typeof (backend as { getChannel?: unknown }).getChannel === 'function') {
    throw new TypeError(
      `route.backend is a grpc-js Client, which has no target to connect to: ${WHAT_TO_PASS}`,
    );
  }
  if (typeof (backend as { createCall?: unknown }).createCall === 'function') {
    throw new TypeError(
      `route.backend is a grpc-js Channel, which the http2 engine cannot use: ${WHAT_TO_PASS}`,
    );
  }
  throw new TypeError(`route.backend has no target: ${WHAT_TO_PASS}`);
}

/**
 * How to reach `target`: `host:port`, `[v6]:port`, `dns:host:port`, `dns:///host:port`,
 * `dns://authority/host:port` (the DNS server `authority` is not used: names go to the OS
 * resolver), `unix:/path` or `unix:///path`. A host without a port gets 443, as in grpc-js. With
 * `tls`, over TLS offering only ALPN `h2`, the certificate checked against `tls.serverName`, else
 * the host name.
 */
export function connectSpec(target: string, tls: BackendTls | undefined): ConnectSpec {
  const scheme = tls === undefined ? 'http' : 'https';
  const secure = tls === undefined ? {} : tlsOptions(tls);
  const unix = /^unix:(?:\/\/)?(\/.*)$/.exec(target);
  if (unix !== null) {
    const path = unix[1];
    return {
      url: `${scheme}://localhost`,
      authority: 'localhost',
      options: {
        ...secure,
        createConnection: tls ? () => tlsConnect({ ...secure, path }) : () => netConnect(path),
      },
      hostname: undefined,
    };
  }
  const hostPort = target.replace(/^dns:(?:\/\/[^/]*\/)?/, '');
  const authority = /(?:\]|^[^:]*):\d+$/.test(hostPort) ? hostPort : `${hostPort}:443`;
  const host = authority.slice(0, authority.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  // Node refuses an IP address as SNI: the certificate is then checked against the IP alone.
  const servername = tls?.serverName ?? (isIP(host) === 0 ? host : undefined);
  return {
    url: `${scheme}://${authority}`,
    authority,
    options: tls === undefined ? {} : { ...secure, servername },
    hostname: isIP(host) === 0 ? host : undefined,
  };
}

function tlsOptions(tls: BackendTls): SecureClientSessionOptions {
  return {
    ca: tls.ca,
    cert: tls.cert,
    key: tls.key,
    servername: tls.serverName,
    ALPNProtocols: ['h2'],
  };
}
