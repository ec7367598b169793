import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { DEFAULT_MAX_MESSAGE_LENGTH } from '@grpc-proxy/codec';
import { HEALTH_CHECK_DEFAULTS } from '@grpc-proxy/director';
import {
  DEFAULT_BACKEND_RESET_BURST,
  DEFAULT_BACKEND_RESETS_PER_SECOND,
  DEFAULT_CLIENT_IDLE_TIMEOUT_MS,
  DEFAULT_CLIENT_STALL_TIMEOUT_MS,
  DEFAULT_MAX_CLIENT_BUFFER_BYTES,
  DEFAULT_MAX_CLIENT_RESETS_PER_SECOND,
  DEFAULT_MAX_CONCURRENT_STREAMS,
} from '@grpc-proxy/http2';
import { DEFAULT_MIRROR_HEADER, DEFAULT_MIRROR_TIMEOUT_MS } from '@grpc-proxy/handler';
import type * as Config from './types';

/**
 * Defaults applied by {@link resolveConfig}. The message limit is codec's, the health-check
 * timings are director's and the client limits the http2 engine's, so the command and the
 * libraries cannot disagree; the README's config reference is checked against what
 * `resolveConfig` produces.
 */
const CONFIG_DEFAULTS = {
  engine: 'http2',
  workers: 1,
  listen: '0.0.0.0:8080',
  balancing: 'round_robin',
  healthCheck: {
    service: '',
    intervalMs: HEALTH_CHECK_DEFAULTS.pollIntervalMs,
    timeoutMs: HEALTH_CHECK_DEFAULTS.checkTimeoutMs,
  },
  metadata: {
    strip: [] as readonly string[],
    forwardedFor: false,
    mirrorHeader: DEFAULT_MIRROR_HEADER,
  },
  mirrorPercent: 100,
  fanOutOnError: 'first-error',
  limits: {
    maxMessageBytes: DEFAULT_MAX_MESSAGE_LENGTH,
    maxConcurrentStreams: DEFAULT_MAX_CONCURRENT_STREAMS,
    idleTimeoutMs: DEFAULT_CLIENT_IDLE_TIMEOUT_MS,
    maxResetsPerSecond: DEFAULT_MAX_CLIENT_RESETS_PER_SECOND,
    maxBufferedBytes: DEFAULT_MAX_CLIENT_BUFFER_BYTES,
    stallTimeoutMs: DEFAULT_CLIENT_STALL_TIMEOUT_MS,
    backendResetBurst: DEFAULT_BACKEND_RESET_BURST,
    backendResetsPerSecond: DEFAULT_BACKEND_RESETS_PER_SECOND,
    mirrorTimeoutMs: DEFAULT_MIRROR_TIMEOUT_MS,
  },
  logLevel: 'info',
  drainTimeoutMs: 10_000,
} as const;

function resolveFile(baseDir: string, file: string): string {
  return path.resolve(baseDir, file);
}

function resolveHealthCheck(
  healthCheck: Config.BackendConfig['healthCheck'],
): Config.ResolvedHealthCheck | undefined {
  if (healthCheck === undefined || healthCheck === false) return undefined;
  const given = healthCheck === true ? {} : healthCheck;
  return { ...CONFIG_DEFAULTS.healthCheck, ...given };
}

function resolveBackend(backend: Config.BackendConfig, baseDir: string): Config.ResolvedBackend {
  const tls = backend.tls && {
    ...backend.tls,
    ...(backend.tls.ca !== undefined && { ca: resolveFile(baseDir, backend.tls.ca) }),
    ...(backend.tls.cert !== undefined && { cert: resolveFile(baseDir, backend.tls.cert) }),
    ...(backend.tls.key !== undefined && { key: resolveFile(baseDir, backend.tls.key) }),
  };
  const healthCheck = resolveHealthCheck(backend.healthCheck);
  return {
    name: backend.name,
    targets: [...backend.targets],
    balancing: backend.balancing ?? CONFIG_DEFAULTS.balancing,
    ...(tls && { tls }),
    ...(healthCheck && { healthCheck }),
  };
}

function resolveMirror(mirror: Config.MirrorConfig | undefined): Config.ResolvedMirror[] {
  const list = mirror === undefined ? [] : Array.isArray(mirror) ? mirror : [mirror];
  return list.map(({ backend, percent }) => ({
    backend,
    percent: percent ?? CONFIG_DEFAULTS.mirrorPercent,
  }));
}

/** A message condition's value as the wire reader gives it: decimal text, `true` as `1`. */
function messageValueText(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

function resolveMessage(message: Config.MessageConditionConfig): Record<string, string[]> {
  const lists = Object.entries(message).map(([fieldPath, value]) => [
    fieldPath,
    ([] as Array<string | number | boolean>).concat(value).map(messageValueText),
  ]);
  return Object.fromEntries(lists) as Record<string, string[]>;
}

function resolveRoute(route: Config.RouteConfig): Config.ResolvedRoute {
  const { metadata, message, mirror, fanOut, ...conditions } = route;
  const resolved: Config.ResolvedRoute = { ...conditions };
  if (message !== undefined) resolved.message = resolveMessage(message);
  if (mirror !== undefined) resolved.mirror = resolveMirror(mirror);
  if (fanOut !== undefined) {
    resolved.fanOut = {
      ...fanOut,
      backends: [...fanOut.backends],
      onError: fanOut.onError ?? CONFIG_DEFAULTS.fanOutOnError,
    };
  }
  if (!metadata) return resolved;
  const lists = Object.entries(metadata).map(([key, value]) => [
    key,
    ([] as string[]).concat(value),
  ]);
  return { ...resolved, metadata: Object.fromEntries(lists) as Record<string, string[]> };
}

/** `workers` as a count: `auto` is one per CPU the process may use. */
function resolveWorkers(workers: Config.ProxyConfig['workers']): number {
  if (workers === undefined) return CONFIG_DEFAULTS.workers;
  // The schema admits a string only when it is `auto`.
  return typeof workers === 'number' ? workers : availableParallelism();
}

/**
 * Applies every default and makes TLS file paths absolute (relative to `baseDir`, the config
 * file's directory). Pure: reads no files. Expects a config that passed `validateConfig`.
 */
export function resolveConfig(
  config: Config.ProxyConfig,
  baseDir: string,
): Config.ResolvedProxyConfig {
  const onlyBackend = config.backends.length === 1 ? config.backends[0].name : undefined;
  const defaultBackend = config.defaultBackend ?? onlyBackend;
  const resolved: Config.ResolvedProxyConfig = {
    engine: config.engine ?? CONFIG_DEFAULTS.engine,
    workers: resolveWorkers(config.workers),
    listen: ([] as string[]).concat(config.listen ?? CONFIG_DEFAULTS.listen),
    backends: config.backends.map((backend) => resolveBackend(backend, baseDir)),
    routes: (config.routes ?? []).map(resolveRoute),
    metadata: {
      strip: [...(config.metadata?.strip ?? CONFIG_DEFAULTS.metadata.strip)],
      forwardedFor: config.metadata?.forwardedFor ?? CONFIG_DEFAULTS.metadata.forwardedFor,
      mirrorHeader: config.metadata?.mirrorHeader ?? CONFIG_DEFAULTS.metadata.mirrorHeader,
    },
    mirror: resolveMirror(config.mirror),
    limits: {
      ...CONFIG_DEFAULTS.limits,
      ...config.limits,
      keepalive: { ...config.limits?.keepalive },
    },
    log: { level: config.log?.level ?? CONFIG_DEFAULTS.logLevel },
    shutdown: { drainTimeoutMs: config.shutdown?.drainTimeoutMs ?? CONFIG_DEFAULTS.drainTimeoutMs },
  };
  if (defaultBackend !== undefined) resolved.defaultBackend = defaultBackend;
  if (config.admin) resolved.admin = { ...config.admin };
  if (config.tls) {
    resolved.tls = {
      cert: resolveFile(baseDir, config.tls.cert),
      key: resolveFile(baseDir, config.tls.key),
      ...(config.tls.clientCa !== undefined && {
        clientCa: resolveFile(baseDir, config.tls.clientCa),
      }),
    };
  }
  return resolved;
}
