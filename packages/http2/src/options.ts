import type { Settings } from 'node:http2';
import type { ProxyHandlerOptions, StreamDirector } from '@grpc-proxy/handler';
import { resolveHandlerOptions, type ResolvedHandlerOptions } from '@grpc-proxy/handler/engine';
import type { SessionOptions } from './session-pool';
import type { LookupAddress } from 'node:dns';
import type { Http2BackendLookup } from './target-addresses';
import {
  resolveClientLimits,
  type Http2ClientLimits,
  type ResolvedClientLimits,
} from './client-limits';

/** 10 000 ms: how long {@link Http2Proxy.close} lets running calls finish by default (as the command's `shutdown.drainTimeoutMs`). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** 300 000 ms (5 min): how long a backend session may stay idle before it is closed by default. */
export const DEFAULT_BACKEND_IDLE_TIMEOUT_MS = 300_000;

/** 20 000 ms: how long a keepalive ping may wait for its answer by default (as in gRPC). */
export const DEFAULT_BACKEND_KEEPALIVE_TIMEOUT_MS = 20_000;

/**
 * 20 000 ms: how long a connection attempt to a backend may take by default, from its start (name
 * resolution, TCP, TLS) to the backend's HTTP/2 settings (gRPC's minimum connect timeout).
 */
export const DEFAULT_BACKEND_CONNECT_ATTEMPT_TIMEOUT_MS = 20_000;

/** 30 000 ms: how old a backend name's addresses may grow before it is resolved again, by default. */
export const DEFAULT_BACKEND_RESOLVE_INTERVAL_MS = 30_000;

/** TLS of the proxy's listening side, as PEM; the proxy then speaks HTTP/2 over TLS (ALPN `h2`). */
export interface Http2ProxyTls {
  /** The proxy's certificate chain, PEM. */
  readonly cert: string | Buffer;
  /** Its private key, PEM. */
  readonly key: string | Buffer;
  /**
   * CA certificates (PEM) that sign client certificates. Given: mutual TLS, a client without a
   * certificate signed by one of them is refused during the handshake. Default: none (no client
   * certificate asked for).
   */
  readonly clientCa?: string | Buffer;
}

/**
 * Options of {@link createHttp2Proxy}: the handler's options (limits, metadata policy, observer,
 * director timeout, proxy name; same meaning and defaults in both engines), the limits per client
 * connection ({@link Http2ClientLimits}) and the HTTP/2 ones.
 * `backendConnectTimeoutMs` (default 1 000 ms) is how long a call waits for the next connection
 * attempt to a target whose last attempt failed (attempts 100 ms to 500 ms apart), instead of
 * failing at once; `0`: never wait. How long one attempt may take is
 * `backendConnectAttemptTimeoutMs`.
 */
export interface Http2ProxyOptions extends ProxyHandlerOptions, Http2ClientLimits {
  /** Picks the backend of each call; see `StreamDirector` in `@grpc-proxy/handler`. */
  director: StreamDirector;
  /** TLS (or mutual TLS) for clients, as PEM. Default: none, plaintext HTTP/2 (h2c). */
  tls?: Http2ProxyTls;
  /**
   * The connection-level receive window of every session, client and backend side, in bytes
   * (HTTP/2 starts it at 65 535 whatever the settings say; stream windows are
   * `initialWindowSize` in the settings). Larger lets large messages of many calls flow without
   * waiting for WINDOW_UPDATEs, at the price of memory per connection. Default: 65 535 (Node's).
   */
  connectionWindowSize?: number;
  /**
   * HTTP/2 settings the proxy announces to its clients. Default: Node's, and
   * `maxConcurrentStreams` ten times the option of that name (1 000).
   */
  serverSettings?: Settings;
  /** HTTP/2 settings of the proxy's sessions to its backends. Default: Node's, push disabled. */
  backendSettings?: Settings;
  /**
   * Milliseconds without any call after which a session to a backend is closed (gracefully;
   * the next call opens a new one; a session running a quiet long call stays). `0`: never. Default: 300 000 (5 minutes).
   */
  backendIdleTimeoutMs?: number;
  /**
   * Milliseconds between keepalive pings on a backend session that runs calls (none on an idle
   * one, which servers count as abuse); a ping unanswered for `backendKeepaliveTimeoutMs` ends
   * the session and its calls (`UNAVAILABLE`) instead of leaving them on a dead connection until
   * their deadline. Mind the backend's ping policy (gRPC servers accept one every 5 minutes by
   * default). `0`: no pings. Default: 0.
   */
  backendKeepaliveMs?: number;
  /** Milliseconds a keepalive ping may wait for its answer. Default: 20 000. */
  backendKeepaliveTimeoutMs?: number;
  /**
   * Milliseconds a connection attempt to a backend may take, from its start (name resolution,
   * TCP, TLS) until the backend's HTTP/2 settings arrive; then the session is destroyed and the
   * attempt failed (`connecting to <target> timed out after <n> ms`): backoff, passive-health
   * report, and its calls end with `UNAVAILABLE` or are retried elsewhere. Catches a blackholed
   * target and one that accepts TCP but never speaks HTTP/2. `0`: no limit. Default: 20 000
   * (gRPC's minimum connect timeout).
   */
  backendConnectAttemptTimeoutMs?: number;
  /**
   * A target named by a host name (`dns:host:port`, `dns:///host:port`, `host:port`) is resolved
   * to all its addresses (see `backendLookup`), and new calls take them in turn. It is resolved
   * again at once when one of them starts failing or loses its connection, and when the next
   * call (or passive-health probe) comes once its addresses are this many milliseconds old.
   * Default: 30 000.
   */
  backendResolveIntervalMs?: number;
  /**
   * Resolves a backend's host name to all its addresses (`{ address, family }`, IP addresses).
   * IP literals and `unix:` targets are never resolved. Default:
   * `dns.promises.lookup(hostname, { all: true })`, the OS resolver (so `/etc/hosts` applies).
   */
  backendLookup?: (hostname: string) => Promise<readonly LookupAddress[]>;
}

/** The options after defaults; computed once per proxy. */
export interface ResolvedHttp2Options extends ResolvedHandlerOptions, ResolvedClientLimits {
  readonly tls: Http2ProxyTls | undefined;
  /** Bytes; 65 535 leaves Node's window as it is. */
  readonly connectionWindowSize: number;
  readonly serverSettings: Settings;
  readonly backendSettings: Settings;
  /** Milliseconds; `0` for never. */
  readonly backendIdleTimeoutMs: number;
  /** Milliseconds; `0` for no pings. */
  readonly backendKeepaliveMs: number;
  /** Milliseconds. */
  readonly backendKeepaliveTimeoutMs: number;
  /** Milliseconds; `0` for no limit. */
  readonly backendConnectAttemptTimeoutMs: number;
  /** Milliseconds. */
  readonly backendResolveIntervalMs: number;
  /** `undefined`: the OS resolver. */
  readonly backendLookup: Http2BackendLookup | undefined;
}

/** Applies the defaults; throws a `RangeError` naming a bad option, a `TypeError` without a director. */
export function resolveHttp2Options(options: Http2ProxyOptions): ResolvedHttp2Options {
  if (typeof options?.director !== 'function') {
    throw new TypeError('createHttp2Proxy: options.director must be a function (a StreamDirector)');
  }
  const limits = resolveClientLimits(options);
  return {
    ...resolveHandlerOptions(options),
    ...limits,
    tls: options.tls,
    connectionWindowSize: windowSize(options.connectionWindowSize),
    serverSettings: {
      maxConcurrentStreams: announcedStreams(limits.maxConcurrentStreams),
      ...options.serverSettings,
    },
    backendSettings: { enablePush: false, ...options.backendSettings },
    backendIdleTimeoutMs: milliseconds(
      'backendIdleTimeoutMs',
      options.backendIdleTimeoutMs ?? DEFAULT_BACKEND_IDLE_TIMEOUT_MS,
    ),
    backendKeepaliveMs: milliseconds('backendKeepaliveMs', options.backendKeepaliveMs ?? 0),
    backendKeepaliveTimeoutMs: milliseconds(
      'backendKeepaliveTimeoutMs',
      options.backendKeepaliveTimeoutMs ?? DEFAULT_BACKEND_KEEPALIVE_TIMEOUT_MS,
    ),
    backendConnectAttemptTimeoutMs: milliseconds(
      'backendConnectAttemptTimeoutMs',
      options.backendConnectAttemptTimeoutMs ?? DEFAULT_BACKEND_CONNECT_ATTEMPT_TIMEOUT_MS,
    ),
    backendResolveIntervalMs: milliseconds(
      'backendResolveIntervalMs',
      options.backendResolveIntervalMs ?? DEFAULT_BACKEND_RESOLVE_INTERVAL_MS,
    ),
    backendLookup: lookupOption(options.backendLookup),
  };
}

/** What the session pool of a proxy with `resolved` options is given. */
export function sessionOptionsOf(resolved: ResolvedHttp2Options): SessionOptions {
  return {
    settings: resolved.backendSettings,
    idleTimeoutMs: resolved.backendIdleTimeoutMs,
    keepaliveMs: resolved.backendKeepaliveMs,
    keepaliveTimeoutMs: resolved.backendKeepaliveTimeoutMs,
    connectionWindowSize: resolved.connectionWindowSize,
    connectTimeoutMs: resolved.backendConnectAttemptTimeoutMs,
    resolveIntervalMs: resolved.backendResolveIntervalMs,
    lookup: resolved.backendLookup,
  };
}

function lookupOption(lookup: Http2BackendLookup | undefined): Http2BackendLookup | undefined {
  if (lookup !== undefined && typeof lookup !== 'function') {
    throw new TypeError(`backendLookup must be a function, got ${typeof lookup}`);
  }
  return lookup;
}

function milliseconds(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${name} must be an integer >= 0, got ${value}`);
  }
  return value;
}

/**
 * The `SETTINGS_MAX_CONCURRENT_STREAMS` announced for a proxy running `running` calls per client
 * connection: ten times more. Node.js frees the slot of a stream the client reset a moment late,
 * and refuses a stream over the announced limit meanwhile (ENHANCE_YOUR_CALM, which fails the
 * call): a client at the proxy's own limit (whose calls wait at the proxy) stays far below it.
 */
function announcedStreams(running: number): number {
  return Math.min(2 ** 32 - 1, running * 10);
}

/** 65 535: the connection window every HTTP/2 session starts with. */
const INITIAL_CONNECTION_WINDOW = 65_535;

function windowSize(value: number | undefined): number {
  if (value === undefined) return INITIAL_CONNECTION_WINDOW;
  if (!Number.isInteger(value) || value < INITIAL_CONNECTION_WINDOW || value > 2 ** 31 - 1) {
    throw new RangeError(
      `connectionWindowSize must be an integer from 65535 to 2147483647, got ${value}`,
    );
  }
  return value;
}
