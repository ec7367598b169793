/**
 * The config types, derived from {@link proxyConfigSchema} (which holds the one description of
 * each field; the README's config reference repeats them). {@link ProxyConfig} is a config file
 * as written; {@link ResolvedProxyConfig} is the same config after `resolveConfig`: every
 * default applied, every file path absolute.
 */
import type { FromSchema } from './from-schema';
import type { proxyConfigSchema } from './schema';

/** Log levels accepted by `log.level` and `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A pino log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Engines accepted by `engine` and `--engine`. */
export const ENGINES = ['grpc-js', 'http2'] as const;
/** Which engine serves the calls: grpc-js (`@grpc-proxy/handler`) or node:http2 (`@grpc-proxy/http2`). */
export type Engine = (typeof ENGINES)[number];

/** Balancing policies accepted by `backends[].balancing`. */
export const BALANCING_POLICIES = ['round_robin', 'first_healthy'] as const;
/** How a backend spreads calls over its targets. */
export type BalancingPolicy = (typeof BALANCING_POLICIES)[number];

/** `routes[].fanOut.responses`: how the backends' messages reach the client. */
export const FAN_OUT_RESPONSES = ['stream', 'merge'] as const;
/** `routes[].fanOut.onError`: what a failed backend of a fan-out does to the call. */
export const FAN_OUT_ERROR_POLICIES = ['first-error', 'skip'] as const;

/** A grpc-proxy config file (YAML or JSON) as written: only `backends` is required. */
export type ProxyConfig = FromSchema<typeof proxyConfigSchema>;
/** `tls`: server-side TLS of the listeners. */
export type ServerTlsConfig = NonNullable<ProxyConfig['tls']>;
/** `backends[]`: a named group of equivalent targets. */
export type BackendConfig = ProxyConfig['backends'][number];
/** `backends[].tls`: TLS towards a backend's targets. */
export type BackendTlsConfig = NonNullable<BackendConfig['tls']>;
/** `backends[].healthCheck` as an object (the config also accepts `true` and `false`). */
export type HealthCheckConfig = Exclude<NonNullable<BackendConfig['healthCheck']>, boolean>;
/** `routes[]`: one routing rule. */
export type RouteConfig = NonNullable<ProxyConfig['routes']>[number];
/** `routes[].fanOut`: one call to several backends. */
export type FanOutConfig = NonNullable<RouteConfig['fanOut']>;
/** `routes[].message`: field path (`"1"`, `"9.2"`) → the accepted value or values, as written. */
export type MessageConditionConfig = NonNullable<RouteConfig['message']>;
/** `metadata`: how request metadata is forwarded. */
export type MetadataConfig = NonNullable<ProxyConfig['metadata']>;
/** `limits`: resource limits. */
export type LimitsConfig = NonNullable<ProxyConfig['limits']>;
/** `limits.keepalive`: HTTP/2 keepalive pings. */
export type KeepaliveConfig = NonNullable<LimitsConfig['keepalive']>;
/** `admin`: the admin HTTP listener. */
export type AdminConfig = NonNullable<ProxyConfig['admin']>;
/** `log`: logging. */
export type LogConfig = NonNullable<ProxyConfig['log']>;
/** `shutdown`: graceful shutdown. */
export type ShutdownConfig = NonNullable<ProxyConfig['shutdown']>;

/** `backends[].healthCheck` when on, with every default applied. */
export type ResolvedHealthCheck = Required<HealthCheckConfig>;

/** A backend with `balancing` applied, `healthCheck` absent when off, and TLS paths absolute. */
export type ResolvedBackend = Omit<BackendConfig, 'balancing' | 'healthCheck'> & {
  balancing: BalancingPolicy;
  healthCheck?: ResolvedHealthCheck;
};

/** `mirror` (on a route or at the top level) as written: one mirror or a list. */
export type MirrorConfig = NonNullable<ProxyConfig['mirror']>;

/** One mirror with its percent applied (default 100). */
export interface ResolvedMirror {
  /** The config name of the backend that gets the copies. */
  backend: string;
  /** Share of calls copied, 0 to 100. */
  percent: number;
}

/** `routes[].fanOut` with `onError` applied (default `first-error`). */
export type ResolvedFanOut = Omit<FanOutConfig, 'onError'> & {
  onError: NonNullable<FanOutConfig['onError']>;
};

/**
 * A route whose metadata values are lists, whose message conditions are lists of text (numbers
 * as decimal, `true`/`false` as `1`/`0`), whose mirrors (if any) are a list, and whose fan-out
 * (if any) has its defaults. Exactly one of `backend` and `fanOut` is set.
 */
export type ResolvedRoute = Omit<RouteConfig, 'metadata' | 'message' | 'mirror' | 'fanOut'> & {
  metadata?: Record<string, string[]>;
  message?: Record<string, string[]>;
  mirror?: ResolvedMirror[];
  fanOut?: ResolvedFanOut;
};

/** A config with every default applied and every file path absolute; what `startProxy` takes. */
export interface ResolvedProxyConfig {
  /** `engine`; default `grpc-js`. */
  engine: Engine;
  /** `workers` as a count (`auto`: `os.availableParallelism()`); default 1 (no worker processes). */
  workers: number;
  /** `listen`, always a list. */
  listen: string[];
  /** `tls`, paths absolute; absent: plaintext. */
  tls?: ServerTlsConfig;
  /** `backends`, in config order. */
  backends: ResolvedBackend[];
  /** `routes`, in order (possibly none). */
  routes: ResolvedRoute[];
  /** `defaultBackend`, or the only backend; absent: unmatched calls end with `UNIMPLEMENTED`. */
  defaultBackend?: string;
  /** `mirror`, a list; empty: calls whose route has no mirror are not copied. */
  mirror: ResolvedMirror[];
  /** `metadata`, every field set. */
  metadata: Required<MetadataConfig>;
  /** `limits`, every default applied; `keepalive` fields absent: grpc-js's. */
  limits: Required<LimitsConfig>;
  /** `admin`; absent: no admin listener. */
  admin?: AdminConfig;
  /** `log`, level set. */
  log: Required<LogConfig>;
  /** `shutdown`, drain timeout set. */
  shutdown: Required<ShutdownConfig>;
}
