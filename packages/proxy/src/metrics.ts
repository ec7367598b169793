import { status as grpcStatus } from '@grpc/grpc-js';
import type { CallObserver, CallReport, CallStartInfo, MirrorReport } from '@grpc-proxy/handler';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CallSeries, LabelInterner, type MethodLabels, type TargetLabels } from './call-series';

/** Options of {@link createProxyMetrics}. */
export interface ProxyMetricsOptions {
  /** Metric name prefix. Default: `grpc_proxy_`. */
  prefix?: string;
  /** Also collect prom-client's process metrics (CPU, memory, event loop lag). Default: true. */
  processMetrics?: boolean;
  /** Duration histogram buckets, in seconds. Default: 1 ms to 30 s, roughly ×2.5 apart. */
  durationBuckets?: number[];
  /**
   * Most distinct methods given their own `grpc_service` and `grpc_method` labels. Clients
   * choose method names (the proxy forwards services it has never seen), so without a cap a
   * client calling random names would grow the metrics, and the proxy's memory, without bound.
   * Methods seen after the cap is reached are counted under {@link OTHER_METHOD_LABEL}.
   * Default: 1000.
   */
  maxMethodLabels?: number;
}

/** The proxy's Prometheus metrics, fed by the handler's per-call observer. */
export interface ProxyMetrics {
  /** The registry to serve on `/metrics` (its own, never prom-client's global one). */
  readonly registry: Registry;
  /** Pass to the handler as its call observer. */
  readonly observer: CallObserver;
  /**
   * Labels the calls served by the `Backend` named `backendName` (their `CallReport.backend`)
   * with `backend` (the config's backend name) and `target`, the labels of
   * {@link ProxyMetrics.setBackendHealth}. `startProxy` adds every target of the config. Calls
   * of a backend never added are labelled with its name as `backend` and an empty `target`.
   */
  addTarget(backendName: string, backend: string, target: string): void;
  /** Records a backend target's health: 1 serving, 0 anything else. */
  setBackendHealth(backend: string, target: string, serving: boolean): void;
  /**
   * Records a backend target's passive health (its connections): `grpc_proxy_backend_up` 1 in
   * rotation, 0 out; each change from in to out counts one `grpc_proxy_backend_ejections_total`.
   * A target counts as in rotation until told otherwise ({@link ProxyMetrics.addTarget} starts
   * it at 1 with no ejections).
   */
  setBackendUp(backend: string, target: string, up: boolean): void;
  /**
   * Forgets a target no longer in the config (after a reload): its `grpc_proxy_backend_up`,
   * `grpc_proxy_backend_healthy` and `grpc_proxy_backend_ejections_total` series go; the call
   * series it served stay.
   */
  removeTarget(backend: string, target: string): void;
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

/** The `grpc_service` and `grpc_method` labels of calls whose method came after `maxMethodLabels` others. */
export const OTHER_METHOD_LABEL = '(other)';

/** The `backend` and `target` labels of a call no backend served (rejected by the director or by a limit). */
export const NO_BACKEND_LABEL = '(none)';

/** `/pkg.Service/Method` as grpc-prometheus labels it: `pkg.Service` and `Method`. */
function splitMethod(path: string): [service: string, method: string] {
  const slash = path.indexOf('/', 1);
  return slash === -1
    ? ['', path.replace(/^\//, '')]
    : [path.slice(1, slash), path.slice(slash + 1)];
}

const methodLabels = (service: string, method: string) => () => ({
  grpc_service: service,
  grpc_method: method,
});

/**
 * Maps a method path to its labels: its service and method while fewer than `max` distinct
 * methods have been seen, {@link OTHER_METHOD_LABEL} for both after that. A method keeps the
 * labels it got first, so a call's start and end always agree.
 */
function methodLabeler(max: number): (path: string) => MethodLabels {
  const known = new Map<string, MethodLabels>();
  const interned = new LabelInterner<MethodLabels>();
  const other = interned.of(
    [OTHER_METHOD_LABEL, OTHER_METHOD_LABEL],
    methodLabels(OTHER_METHOD_LABEL, OTHER_METHOD_LABEL),
  );
  return (path) => {
    const labels = known.get(path);
    if (labels !== undefined) return labels;
    if (known.size >= max) return other;
    const split = splitMethod(path);
    const fresh = interned.of(split, methodLabels(...split));
    known.set(path, fresh);
    return fresh;
  };
}

const METHOD_LABELS = ['grpc_service', 'grpc_method'] as const;
const CALL_LABELS = [...METHOD_LABELS, 'backend', 'target', 'grpc_code'] as const;
const FLOW_LABELS = [...METHOD_LABELS, 'backend', 'target', 'direction'] as const;
const TARGET_LABELS = ['backend', 'target'] as const;

/**
 * Creates the proxy's metrics (the README's "Metrics" section lists them): calls ended, their
 * durations, calls in flight, messages and bytes forwarded, calls the proxy failed itself,
 * transparent retries, the backend calls of fan-out calls, and the health (active checks) and passive health (connections, with
 * ejections) of each backend target. `backend` is the config's backend name and `target` one of
 * its targets on every series; methods are labelled `grpc_service` / `grpc_method` and status
 * codes `grpc_code` (`OK`, `UNAVAILABLE`...), as the grpc-prometheus middlewares do.
 */
export function createProxyMetrics(options: ProxyMetricsOptions = {}): ProxyMetrics {
  const prefix = options.prefix ?? 'grpc_proxy_';
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });
  const metric = <Label extends string>(name: string, help: string, labels: readonly Label[]) => ({
    name: `${prefix}${name}`,
    help,
    labelNames: labels,
    registers: [registry],
  });
  const buckets = options.durationBuckets ?? DEFAULT_BUCKETS;
  // The per-call series are counted in `series` and handed to prom-client when it collects.
  const series = new CallSeries(buckets, codeName);
  const fed = (samples: { feed(metric: Counter<string> | Gauge<string>): void }) => ({
    collect(this: Counter<string> | Gauge<string>) {
      samples.feed(this);
    },
  });
  new Counter({
    ...metric(
      'calls_total',
      'Calls ended, by method, backend, target and status code.',
      CALL_LABELS,
    ),
    ...fed(series.calls),
  });
  new Histogram({
    ...metric(
      'call_duration_seconds',
      'Time from a call arriving to its status being sent, by method, backend, target and status code.',
      CALL_LABELS,
    ),
    buckets,
    collect() {
      series.duration.feed(this);
    },
  });
  new Gauge({
    ...metric('calls_in_flight', 'Calls started and not yet ended, by method.', METHOD_LABELS),
    ...fed(series.inFlight),
  });
  new Counter({
    ...metric(
      'messages_total',
      'Messages forwarded, by method, backend, target and direction (from_client, to_client).',
      FLOW_LABELS,
    ),
    ...fed(series.messages),
  });
  new Counter({
    ...metric(
      'bytes_total',
      'Payload bytes forwarded (gRPC framing excluded), by method, backend, target and direction.',
      FLOW_LABELS,
    ),
    ...fed(series.bytes),
  });
  new Counter({
    ...metric(
      'calls_failed_in_proxy_total',
      'Calls whose status the proxy produced itself (no route, backend unreachable, limits), by method, backend, target and status code.',
      CALL_LABELS,
    ),
    ...fed(series.failedInProxy),
  });
  new Counter({
    ...metric(
      'transparent_retries_total',
      'Attempts sent again because the backend had not processed them (refused stream, stream beyond a GOAWAY, connection failed before the request was written, target out of rotation), by method.',
      METHOD_LABELS,
    ),
    ...fed(series.retries),
  });
  // With workers, each has its own view: a target counts as up (healthy) when it is in all.
  const backendUp = new Gauge({
    ...metric(
      'backend_up',
      'Passive health of each backend target: 1 in rotation, 0 out after a failed connection (probed again with backoff).',
      TARGET_LABELS,
    ),
    aggregator: 'min',
  });
  const ejections = new Counter(
    metric(
      'backend_ejections_total',
      'Times each backend target was taken out of rotation by passive health.',
      TARGET_LABELS,
    ),
  );
  const backendHealthy = new Gauge({
    ...metric(
      'backend_healthy',
      'Health of each backend target: 1 serving, 0 not serving or unreachable.',
      TARGET_LABELS,
    ),
    aggregator: 'min',
  });

  const mirrored = new Counter(
    metric(
      'mirrored_calls_total',
      'Mirrored copies of calls (shadow traffic) ended, by mirror backend and outcome: completed (the mirror answered, any status), dropped (fell behind or outlived its call, cancelled), failed (not made, or its connection failed).',
      ['backend', 'outcome'] as const,
    ),
  );
  new Counter({
    ...metric(
      'fanout_backend_calls_total',
      "Backend calls of fan-out calls ended, one per backend of each: by fan-out (`fan_out`, the call's `backend` label), backend, target and status code (CANCELLED: the call ended first).",
      ['fan_out', 'backend', 'target', 'grpc_code'] as const,
    ),
    ...fed(series.fanOutLegs),
  });
  const methodLabels = methodLabeler(options.maxMethodLabels ?? 1000);
  const targets = new Map<string, TargetLabels>();
  const interned = new LabelInterner<TargetLabels>();
  const noBackend = interned.of([NO_BACKEND_LABEL, NO_BACKEND_LABEL], () => ({
    backend: NO_BACKEND_LABEL,
    target: NO_BACKEND_LABEL,
  }));
  const targetLabels = (backend: string, target: string) =>
    interned.of([backend, target], () => ({ backend, target }));
  const targetOf = (name: string): TargetLabels => targets.get(name) ?? targetLabels(name, '');

  const observer: CallObserver = {
    onCallStart(info: CallStartInfo) {
      series.started(methodLabels(info.method));
    },
    onCallEnd(report: CallReport) {
      const where = report.backend === undefined ? noBackend : targetOf(report.backend);
      series.ended(methodLabels(report.method), where, report, targetOf);
    },
    onMirrorEnd(report: MirrorReport) {
      mirrored.inc({ backend: targetOf(report.backend).backend, outcome: report.outcome });
    },
  };
  // Whether each target is in rotation now (by `backend` and `target`): only a change to out of
  // rotation is an ejection, whatever the caller repeats.
  const up = new Map<string, boolean>();
  const upKey = (backend: string, target: string) => JSON.stringify([backend, target]);
  return {
    registry,
    observer,
    addTarget(backendName, backend, target) {
      targets.set(backendName, targetLabels(backend, target));
      up.set(upKey(backend, target), true);
      backendUp.set({ backend, target }, 1);
      ejections.inc({ backend, target }, 0);
    },
    setBackendHealth(backend, target, serving) {
      backendHealthy.set({ backend, target }, serving ? 1 : 0);
    },
    removeTarget(backend, target) {
      up.delete(upKey(backend, target));
      for (const series of [backendUp, backendHealthy, ejections])
        series.remove({ backend, target });
    },
    setBackendUp(backend, target, isUp) {
      const key = upKey(backend, target);
      if (up.get(key) !== false && !isUp) ejections.inc({ backend, target });
      up.set(key, isUp);
      backendUp.set({ backend, target }, isUp ? 1 : 0);
    },
  };
}
