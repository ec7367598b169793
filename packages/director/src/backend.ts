import {
  Client,
  credentials as grpcCredentials,
  status,
  type ChannelCredentials,
  type ChannelOptions,
} from '@grpc/grpc-js';
import type { Backend, BackendClientOptions, BackendTls } from '@grpc-proxy/handler';
import { ProxyStatusError, proxyChannelOptions } from '@grpc-proxy/handler';
import { watchChannelHealth } from './channel-health';
import type { HealthChangeListener } from './passive-health';
import { PassiveHealth } from './passive-health';

/**
 * Options of {@link createBackend}: the handler's backend client options plus a name.
 *
 * - `credentials`: grpc-js channel credentials, for the grpc-js engine only. Default:
 *   `credentials.createInsecure()`, or those `tls` stands for.
 * - `maxReceiveMessageLength` / `maxSendMessageLength`: message limits on the backend leg, in
 *   bytes (`-1` = none). Default: 64 MiB each, as the handler's.
 * - `channelOptions`: grpc-js channel options, applied over the proxy-friendly defaults of the
 *   handler's `proxyChannelOptions` (retries off, retry buffer 0, channelz off, the limits).
 *   Set `grpc.service_config` here to use grpc-js's own load balancing over a `dns:`, `ipv4:`
 *   or `xds:` target. Default: none.
 */
export interface BackendOptions extends BackendClientOptions {
  /** Name used in logs, metrics and error messages. Default: the target. */
  name?: string;
  /**
   * TLS towards the target as PEM, which both engines can use (the grpc-js engine gets it as
   * channel credentials). Not together with `credentials`. Default: none (plaintext).
   */
  tls?: BackendTls;
  /**
   * Called on each passive-health transition (see {@link OwnedBackend.isAvailable}): with
   * `false` and the connection error when the backend leaves the rotation, with `true` and
   * `undefined` when it comes back. Not called on `close()`. What it throws is rethrown on its
   * own, as an event listener's would be. Default: none.
   */
  onHealthChange?: HealthChangeListener;
}

function pem(value: string | Buffer | undefined): Buffer | null {
  return value === undefined ? null : Buffer.from(value);
}

/** The grpc-js credentials `tls` stands for. */
function tlsCredentials(tls: BackendTls): ChannelCredentials {
  return grpcCredentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert));
}

/** grpc-js checks the certificate against `serverName` (and sends it as SNI) with this option. */
function serverNameOption(tls: BackendTls | undefined): ChannelOptions {
  return tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {};
}

/** One upstream that owns its grpc-js channel; created by {@link createBackend}. */
export interface OwnedBackend extends Backend {
  /** The grpc-js target, e.g. `127.0.0.1:50051`, `dns:///svc:443`, `ipv4:10.0.0.1:1,10.0.0.2:1`. */
  readonly target: string;
  /** TLS towards the target as given (PEM), for engines that open their own connections. */
  readonly tls: BackendTls | undefined;
  /** True once {@link OwnedBackend.close} has been called. */
  readonly closed: boolean;
  /**
   * The grpc-js client for raw calls, created on first use with the proxy-friendly options.
   * Throws `ProxyStatusError(UNAVAILABLE)` after `close()`.
   */
  client(): Client;
  /**
   * Passive health: false once closed, and while the backend is down — from a failed
   * connection attempt (its channel in `TRANSIENT_FAILURE`, or a failure given to
   * {@link OwnedBackend.reportConnection}) until one connects again. Directors skip it
   * (`roundRobin`, `healthChecked`). Starts true: nothing is known before the first attempt.
   *
   * With the grpc-js engine the backend watches its own channel once created: a lost connection
   * (backend killed, `GOAWAY`) is followed by a connection attempt at once, so a dead target
   * leaves the rotation within one attempt; while down, grpc-js keeps trying with its reconnect
   * backoff (100 ms doubling to 500 ms, ± 20 %, from the handler's `proxyChannelOptions`), so a
   * target that comes back is in rotation again within about half a second.
   */
  isAvailable(): boolean;
  /**
   * The last connection error while down (passive health), e.g. `connection to 127.0.0.1:50051
   * failed: connect ECONNREFUSED 127.0.0.1:50051`; `undefined` while up.
   */
  readonly connectionError: Error | undefined;
  /**
   * Passive-health input from engines that open their own connections (`@grpc-proxy/http2`):
   * `undefined` when an attempt to {@link OwnedBackend.target} connected (up again), the error
   * when it failed (down, the error kept as {@link OwnedBackend.connectionError}). Ignored once
   * closed.
   */
  reportConnection(error: Error | undefined): void;
  /** Closes the channel (calls in flight finish). Idempotent. */
  close(): void;
}

/**
 * Creates a backend for `target`: the channel is created lazily on the first call and shared
 * by all calls to this backend.
 *
 * Any grpc-js target works, including `unix:/path`, `dns:///host:port`, `ipv4:a:p1,b:p2` and
 * `xds:///name` (with the xds package registered). To balance across the addresses a name
 * resolves to, pass `channelOptions: { 'grpc.service_config': '{"loadBalancingConfig":
 * [{"round_robin":{}}]}' }`: the backend then stays one backend to the directors, and grpc-js
 * follows the resolver (passive health then sees the channel as a whole: down only while no
 * address connects).
 *
 * Passive health: see {@link OwnedBackend.isAvailable} and {@link BackendOptions.onHealthChange}.
 *
 * @param target grpc-js target string.
 * @param options see {@link BackendOptions}; all optional.
 */
export function createBackend(target: string, options: BackendOptions = {}): OwnedBackend {
  if (typeof target !== 'string' || target.trim() === '') {
    throw new TypeError('createBackend: target must be a non-empty string');
  }
  const name = options.name ?? target;
  const tls = options.tls;
  if (tls !== undefined && options.credentials !== undefined) {
    throw new TypeError('createBackend: give tls or credentials, not both');
  }
  const channelCredentials = tls
    ? tlsCredentials(tls)
    : (options.credentials ?? grpcCredentials.createInsecure());
  const channelOptions = proxyChannelOptions({
    ...options,
    channelOptions: { ...serverNameOption(tls), ...options.channelOptions },
  });
  const health = new PassiveHealth(options.onHealthChange);
  let client: Client | undefined;
  let stopWatching: (() => void) | undefined;
  let closed = false;
  return {
    name,
    target,
    tls,
    get closed() {
      return closed;
    },
    get connectionError() {
      return health.connectionError;
    },
    client() {
      if (closed) {
        throw new ProxyStatusError(status.UNAVAILABLE, `backend ${name} is closed`);
      }
      if (client === undefined) {
        client = new Client(target, channelCredentials, channelOptions);
        stopWatching = watchChannelHealth(client, target, health);
      }
      return client;
    },
    isAvailable() {
      return !closed && health.up;
    },
    reportConnection(error) {
      if (error === undefined) health.connected();
      else health.failed(error);
    },
    close() {
      if (closed) return;
      closed = true;
      health.close();
      stopWatching?.();
      client?.close();
      client = undefined;
    },
  };
}
