import {
  Client,
  credentials as grpcCredentials,
  status,
  type ChannelCredentials,
  type ChannelOptions,
} from '@grpc/grpc-js';
import type { Backend, BackendClientOptions, BackendTls } from '@grpc-proxy/handler';
import { ProxyStatusError, proxyChannelOptions } from '@grpc-proxy/handler';

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
  /** False once closed: `roundRobin` skips a closed backend. */
  isAvailable(): boolean;
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
 * follows the resolver.
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
  let client: Client | undefined;
  let closed = false;
  return {
    name,
    target,
    tls,
    get closed() {
      return closed;
    },
    client() {
      if (closed) {
        throw new ProxyStatusError(status.UNAVAILABLE, `backend ${name} is closed`);
      }
      client ??= new Client(target, channelCredentials, channelOptions);
      return client;
    },
    isAvailable() {
      return !closed;
    },
    close() {
      closed = true;
      client?.close();
      client = undefined;
    },
  };
}
