import { Counter, Gauge, type Registry } from 'prom-client';

/** Counts config reloads in a registry (the process that validates the config owns them). */
export interface ReloadMetrics {
  /** One reload ended: `grpc_proxy_config_reloads_total{result}` and, on success, the timestamp. */
  record(result: 'success' | 'failure'): void;
}

/**
 * Registers `<prefix>config_reloads_total{result="success"|"failure"}` and
 * `<prefix>config_last_reload_success_timestamp_seconds` (the start time until a reload
 * succeeds, as Prometheus's own `prometheus_config_last_reload_success_timestamp_seconds`) in
 * `registry`, or finds them there when already registered.
 *
 * @param prefix - metric name prefix; default `grpc_proxy_`
 */
export function createReloadMetrics(registry: Registry, prefix = 'grpc_proxy_'): ReloadMetrics {
  const reloadsName = `${prefix}config_reloads_total`;
  const lastName = `${prefix}config_last_reload_success_timestamp_seconds`;
  const known = registry.getSingleMetric(reloadsName) as Counter<'result'> | undefined;
  const reloads =
    known ??
    new Counter({
      name: reloadsName,
      help: 'Config reloads (SIGHUP, POST /reload), by result: success or failure (the running config stayed).',
      labelNames: ['result'],
      registers: [registry],
    });
  const last =
    (registry.getSingleMetric(lastName) as Gauge | undefined) ??
    new Gauge({
      name: lastName,
      help: 'Unix time of the last successful config reload (of the start, before any).',
      registers: [registry],
      // The workers of one proxy reload together: the cluster's value is the latest.
      aggregator: 'max',
    });
  if (known === undefined) {
    reloads.inc({ result: 'success' }, 0);
    reloads.inc({ result: 'failure' }, 0);
    last.set(Date.now() / 1000);
  }
  return {
    record(result) {
      reloads.inc({ result });
      if (result === 'success') last.set(Date.now() / 1000);
    },
  };
}
