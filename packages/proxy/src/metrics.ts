import { status as grpcStatus } from '@grpc/grpc-js';
import type { CallObserver, CallReport, CallStartInfo } from '@grpc-proxy/handler';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Options of {@link createProxyMetrics}. */
export interface ProxyMetricsOptions {
  /** Metric name prefix. Default: `grpc_proxy_`. */
  prefix?: string;
  /** Also collect prom-client's process metrics (CPU, memory, event loop lag). Default: true. */
  processMetrics?: boolean;
  /** Duration histogram buckets, in seconds. Default: 1 ms to 30 s, roughly ×2.5 apart. */
  durationBuckets?: number[];
  /**
   * Most distinct `method` label values kept. Clients choose method names (the proxy forwards
   * services it has never seen), so without a cap a client calling random names would grow the
   * metrics, and the proxy's memory, without bound. Methods seen after the cap is reached are
   * counted under {@link OTHER_METHOD_LABEL}. Default: 1000.
   */
  maxMethodLabels?: number;
}

/** The proxy's Prometheus metrics, fed by the handler's per-call observer. */
export interface ProxyMetrics {
  /** The registry to serve on `/metrics` (its own, never prom-client's global one). */
  readonly registry: Registry;
  /** Pass to the handler as its call observer. */
  readonly observer: CallObserver;
  /** Records a backend target's health: 1 serving, 0 anything else. */
  setBackendHealth(backend: string, target: string, serving: boolean): void;
}

const DEFAULT_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];
/** `0` → `OK`, `14` → `UNAVAILABLE`: readable labels, as grpc-go's interceptors do. */
const CODE_NAMES = new Map(
  Object.entries(grpcStatus)
    .filter(([, value]) => typeof value === 'number')
    .map(([name, value]) => [value as number, name]),
);

/** The status code's name (`OK`, `UNAVAILABLE`...), or the number for a code gRPC does not define. */
export function codeName(code: number): string {
  return CODE_NAMES.get(code) ?? String(code);
}

/** The `method` label of calls whose method arrived after `maxMethodLabels` others. */
export const OTHER_METHOD_LABEL = '(other)';

/**
 * Maps a method name to its label: itself while fewer than `max` distinct methods have been
 * seen, {@link OTHER_METHOD_LABEL} after that. A method keeps the label it got first, so a
 * call's start and end always agree.
 */
export function methodLabeler(max: number): (method: string) => string {
  const known = new Set<string>();
  return (method) => {
    if (known.has(method)) return method;
    if (known.size >= max) return OTHER_METHOD_LABEL;
    known.add(method);
    return method;
  };
}

/** The backend label of a call no backend served (rejected by the director or by a limit). */
export const NO_BACKEND_LABEL = '(none)';

/**
 * Creates the proxy's metrics:
 * - `grpc_proxy_calls_total{method, backend, code}` — calls ended;
 * - `grpc_proxy_call_duration_seconds{method, backend, code}` — histogram, arrival to end;
 * - `grpc_proxy_calls_in_flight{method}` — calls started and not ended;
 * - `grpc_proxy_messages_total{method, backend, direction}` — `direction` is `from_client` or `to_client`;
 * - `grpc_proxy_bytes_total{method, backend, direction}` — payload bytes, framing excluded;
 * - `grpc_proxy_proxy_errors_total{method, code}` — statuses the proxy produced itself;
 * - `grpc_proxy_backend_healthy{backend, target}` — 1 serving, 0 not.
 */
export function createProxyMetrics(options: ProxyMetricsOptions = {}): ProxyMetrics {
  const prefix = options.prefix ?? 'grpc_proxy_';
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  const registers = [registry];
  const methodLabel = methodLabeler(options.maxMethodLabels ?? 1000);
  const calls = new Counter({
    name: `${prefix}calls_total`,
    help: 'Calls ended, by method, backend and status code.',
    labelNames: ['method', 'backend', 'code'],
    registers,
  });
  const duration = new Histogram({
    name: `${prefix}call_duration_seconds`,
    help: 'Time from a call arriving to its status being sent, by method, backend and status code.',
    labelNames: ['method', 'backend', 'code'],
    buckets: options.durationBuckets ?? DEFAULT_BUCKETS,
    registers,
  });
  const inFlight = new Gauge({
    name: `${prefix}calls_in_flight`,
    help: 'Calls started and not yet ended, by method.',
    labelNames: ['method'],
    registers,
  });
  const messages = new Counter({
    name: `${prefix}messages_total`,
    help: 'Messages forwarded, by method, backend and direction (from_client, to_client).',
    labelNames: ['method', 'backend', 'direction'],
    registers,
  });
  const bytes = new Counter({
    name: `${prefix}bytes_total`,
    help: 'Payload bytes forwarded (gRPC framing excluded), by method, backend and direction.',
    labelNames: ['method', 'backend', 'direction'],
    registers,
  });
  const proxyErrors = new Counter({
    name: `${prefix}proxy_errors_total`,
    help: 'Statuses produced by the proxy itself (no route, backend unreachable, limits), by method and code.',
    labelNames: ['method', 'code'],
    registers,
  });
  const backendHealthy = new Gauge({
    name: `${prefix}backend_healthy`,
    help: 'Health of each backend target: 1 serving, 0 not serving or unreachable.',
    labelNames: ['backend', 'target'],
    registers,
  });

  const observer: CallObserver = {
    onCallStart(info: CallStartInfo) {
      inFlight.inc({ method: methodLabel(info.method) });
    },
    onCallEnd(report: CallReport) {
      const method = methodLabel(report.method);
      const backend = report.backend ?? NO_BACKEND_LABEL;
      const code = codeName(report.code);
      inFlight.dec({ method });
      calls.inc({ method, backend, code });
      duration.observe({ method, backend, code }, report.durationMs / 1000);
      messages.inc({ method, backend, direction: 'from_client' }, report.messagesFromClient);
      messages.inc({ method, backend, direction: 'to_client' }, report.messagesToClient);
      bytes.inc({ method, backend, direction: 'from_client' }, report.bytesFromClient);
      bytes.inc({ method, backend, direction: 'to_client' }, report.bytesToClient);
      if (report.proxyError) proxyErrors.inc({ method, code });
    },
  };
  return {
    registry,
    observer,
    setBackendHealth(backend, target, serving) {
      backendHealthy.set({ backend, target }, serving ? 1 : 0);
    },
  };
}
