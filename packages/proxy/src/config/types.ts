/**
 * The shape of a grpc-proxy config file (YAML or JSON), as written by users.
 *
 * Every optional field documents its default; {@link ResolvedProxyConfig} is the same config with
 * every default applied and every file path made absolute.
 */

/** Log levels accepted by `log.level` and `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Balancing policies accepted by `backends[].balancing`. */
export const BALANCING_POLICIES = ['round_robin', 'first_healthy'] as const;
/** How a backend spreads calls over its targets. */
export type BalancingPolicy = (typeof BALANCING_POLICIES)[number];

/** Server-side TLS for the proxy's listeners. */
export interface ServerTlsConfig {
  /** PEM certificate chain file (relative paths are relative to the config file). */
  cert: string;
  /** PEM private key file. */
  key: string;
  /** PEM CA bundle; when set, clients must present a certificate signed by it (mutual TLS). */
  clientCa?: string;
}

/** TLS towards a backend. Absent: plaintext. */
export interface BackendTlsConfig {
  /** PEM CA bundle that signs the backends' certificates. Default: the system roots. */
  ca?: string;
  /** PEM client certificate chain for mutual TLS with the backend (needs `key`). */
  cert?: string;
  /** PEM client private key (needs `cert`). */
  key?: string;
  /** Name to verify the backend certificate against. Default: the target's host name. */
  serverName?: string;
}

/** grpc.health.v1 checking of a backend's targets. */
export interface HealthCheckConfig {
  /** Service name asked for in `Check`. Default: `""` (the whole server). */
  service?: string;
  /** Milliseconds between checks of one target. Default: 5000. */
  intervalMs?: number;
  /** Milliseconds before a check counts as failed. Default: 1000. */
  timeoutMs?: number;
}

/** A named group of equivalent upstream targets. */
export interface BackendConfig {
  /** Unique name, used by routes, logs and metrics. */
  name: string;
  /** `host:port` addresses (or any grpc-js target such as `dns:///host:port`). At least one. */
  targets: string[];
  /** How calls spread over the targets: `round_robin`, or `first_healthy` (needs `healthCheck`). Default: `round_robin`. */
  balancing?: BalancingPolicy;
  /** TLS towards the targets. Default: plaintext. */
  tls?: BackendTlsConfig;
  /** Health checking; `true` means all defaults. Default: off (every target is used). */
  healthCheck?: boolean | HealthCheckConfig;
}

/** One routing rule: every condition given must hold. Rules are tried in order; the first match wins. */
export interface RouteConfig {
  /** Fully qualified service name, e.g. `acme.users.v1.Users`. */
  service?: string;
  /** Full method name, e.g. `/acme.users.v1.Users/Get`. */
  method?: string;
  /** Metadata keys and the value (or any of the values) they must have. */
  metadata?: Record<string, string | string[]>;
  /** Name of the backend that serves matching calls. */
  backend: string;
}

/** How request metadata is forwarded. */
export interface MetadataConfig {
  /** Keys removed before forwarding (e.g. routing or credential keys). Default: none. */
  strip?: string[];
  /** Append the client's address to `x-forwarded-for`. Default: false. */
  forwardedFor?: boolean;
}

/** HTTP/2 keepalive pings sent by the proxy to clients and to backends. */
export interface KeepaliveConfig {
  /** Milliseconds between pings. Default: grpc-js default (2 hours on servers, off on clients). */
  timeMs?: number;
  /** Milliseconds to wait for a ping ack before closing the connection. Default: 20000. */
  timeoutMs?: number;
}

/** Resource limits. */
export interface LimitsConfig {
  /** Largest message, in bytes, accepted in either direction on both legs. Default: 64 MiB. */
  maxMessageBytes?: number;
  /** Largest number of concurrent streams per client connection. Default: unlimited. */
  maxConcurrentStreams?: number;
  /** Keepalive pings. Default: grpc-js defaults. */
  keepalive?: KeepaliveConfig;
}

/** The admin HTTP listener. */
export interface AdminConfig {
  /** `host:port` of the `/metrics`, `/healthz` and `/readyz` listener. */
  listen: string;
}

/** Logging. */
export interface LogConfig {
  /** Lowest level logged. Default: `info`. Per-call lines are logged at `debug`. */
  level?: LogLevel;
}

/** Graceful shutdown on SIGTERM/SIGINT. */
export interface ShutdownConfig {
  /** Milliseconds in-flight calls may take to finish before they are ended with UNAVAILABLE. Default: 10000. */
  drainTimeoutMs?: number;
}

/** A grpc-proxy config file. */
export interface ProxyConfig {
  /** Addresses to accept gRPC on (`host:port`, `[v6]:port` or `unix:/path`). Default: `0.0.0.0:8080`. */
  listen?: string | string[];
  /** TLS for the listeners. Default: plaintext. */
  tls?: ServerTlsConfig;
  /** The upstreams. At least one. */
  backends: BackendConfig[];
  /** Routing rules, first match wins. Default: none (everything goes to the default backend). */
  routes?: RouteConfig[];
  /** Backend for calls no route matches. Default: the only backend when there is exactly one; otherwise such calls fail with UNIMPLEMENTED. */
  defaultBackend?: string;
  /** Metadata forwarding policy. */
  metadata?: MetadataConfig;
  /** Resource limits. */
  limits?: LimitsConfig;
  /** Admin HTTP listener. Default: none. */
  admin?: AdminConfig;
  /** Logging. */
  log?: LogConfig;
  /** Graceful shutdown. */
  shutdown?: ShutdownConfig;
}

/** Health checking with every default applied. */
export interface ResolvedHealthCheck {
  /** grpc.health.v1 service name asked about (`''`: the whole server). */
  service: string;
  /** `Check` polling interval, ms. */
  intervalMs: number;
  /** Deadline of one `Check`, ms; also the longest startup waits for the first answers. */
  timeoutMs: number;
}

/** A backend with every default applied and TLS paths absolute. */
export interface ResolvedBackend {
  /** Unique name. */
  name: string;
  /** grpc-js targets, at least one. */
  targets: string[];
  /** Balancing over the targets. */
  balancing: BalancingPolicy;
  /** TLS towards the targets (absolute paths); absent: plaintext. */
  tls?: BackendTlsConfig;
  /** Health checking; absent: off. */
  healthCheck?: ResolvedHealthCheck;
}

/** A route with metadata values normalised to lists. */
export interface ResolvedRoute {
  /** Service the call must be for. */
  service?: string;
  /** Full method the call must be for. */
  method?: string;
  /** Metadata keys and the values their first value may have. */
  metadata?: Record<string, string[]>;
  /** Backend name for matching calls. */
  backend: string;
}

/** A config with every default applied and every file path absolute; what `startProxy` takes. */
export interface ResolvedProxyConfig {
  /** Listen addresses, at least one. */
  listen: string[];
  /** Listener TLS (absolute paths); absent: plaintext. */
  tls?: ServerTlsConfig;
  /** The backends, in config order. */
  backends: ResolvedBackend[];
  /** Routing rules, in order (possibly none). */
  routes: ResolvedRoute[];
  /** Backend for unmatched calls; absent: they fail with UNIMPLEMENTED. */
  defaultBackend?: string;
  /** Metadata policy. */
  metadata: { strip: string[]; forwardedFor: boolean };
  /** Limits (`maxConcurrentStreams` absent: unlimited; `keepalive` fields absent: grpc-js defaults). */
  limits: {
    maxMessageBytes: number;
    maxConcurrentStreams?: number;
    keepalive: KeepaliveConfig;
  };
  /** Admin listener; absent: none. */
  admin?: AdminConfig;
  /** Logging. */
  log: { level: LogLevel };
  /** Graceful shutdown. */
  shutdown: { drainTimeoutMs: number };
}
