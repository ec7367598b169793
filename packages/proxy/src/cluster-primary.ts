import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { startAdminServer, type AdminServer } from './admin';
import { EXIT_CODES, fail, type CommandIo, type CommandSignal, type ExitCode } from './command-io';
import type { FromWorker } from './cluster-messages';
import type { ResolvedProxyConfig } from './config/types';
import type { ReloadResult } from './reload';
import { createReloadMetrics } from './reload-metrics';
import { reportReload } from './reloader';
import { WorkerSupervisor } from './worker-supervisor';

/** How long the primary waits for the workers' answers to a readiness question. */
const READY_TIMEOUT_MS = 2000;
/** How long the primary waits for every worker to apply a reload. */
const RELOAD_TIMEOUT_MS = 30_000;

/** What the primary needs from the command. */
export interface PrimaryParts {
  readonly config: ResolvedProxyConfig;
  /** The command's arguments, which every worker runs with. */
  readonly argv: readonly string[];
  /** Reads and validates the config again (the command's file and flags); throws if invalid. */
  readonly loadConfig: () => ResolvedProxyConfig;
  readonly io: CommandIo;
  readonly logger: Logger;
}

/** The primary's own metrics: workers, restarts, reloads (the workers' are aggregated). */
function primaryMetrics(workers: WorkerSupervisor) {
  const registry = new Registry();
  const restarts = new Counter({
    name: 'grpc_proxy_worker_restarts_total',
    help: 'Worker processes that died and were replaced.',
    registers: [registry],
  });
  new Gauge({
    name: 'grpc_proxy_workers',
    help: 'Worker processes running and listening.',
    registers: [registry],
    collect() {
      this.set(workers.running);
    },
  });
  return { registry, restarts, reloads: createReloadMetrics(registry) };
}

/** One reload of every worker with the config validated once, here. */
async function reloadWorkers(
  supervisor: WorkerSupervisor,
  loadConfig: () => ResolvedProxyConfig,
  logger: Logger,
): Promise<ReloadResult> {
  let config: ResolvedProxyConfig;
  try {
    config = loadConfig();
  } catch (error) {
    return { result: 'failure', error: (error as Error).message };
  }
  const answers = await supervisor.ask<Extract<FromWorker, { grpcProxy: 'reloaded' }>>(
    (id) => ({ grpcProxy: 'reload', id, config }),
    RELOAD_TIMEOUT_MS,
  );
  const problems: string[] = [];
  let success: ReloadResult | undefined;
  for (const [slot, answer] of answers) {
    if (answer === undefined) problems.push(`worker ${slot}: no answer`);
    else if (answer.result.result === 'failure') {
      problems.push(`worker ${slot}: ${answer.result.error}`);
    } else success ??= answer.result;
  }
  if (problems.length > 0 || success === undefined) {
    return { result: 'failure', error: problems.join('\n') || 'no worker is running' };
  }
  supervisor.setConfig(config);
  logger.level = config.log.level;
  return success;
}

/**
 * Runs the command's primary process for `workers` > 1: forks the workers (which share the
 * listeners through node:cluster), replaces those that die (see `WORKER_RESTART_BACKOFF`),
 * forwards SIGTERM/SIGINT to all and exits once all have drained, validates the config once on
 * SIGHUP or `POST /reload` and has every worker apply it, and serves the admin endpoints:
 * `/metrics` summed over the workers (prom-client's `AggregatorRegistry`) plus its own, `/readyz`
 * ready when every worker is.
 */
export async function runPrimary(parts: PrimaryParts): Promise<ExitCode> {
  const { config, io, logger } = parts;
  const workers = new WorkerSupervisor(
    {
      count: config.workers,
      argv: parts.argv,
      stdout: io.stdout,
      stderr: io.stderr,
      logger,
      // Called on a worker's death, long after `metrics` is set.
      onRestart: () => metrics.restarts.inc(),
    },
    config,
  );
  const metrics = primaryMetrics(workers);
  let addresses: readonly string[];
  try {
    addresses = await workers.start();
  } catch (error) {
    workers.kill();
    await workers.exited();
    return fail(io, EXIT_CODES.startFailed, (error as Error).message);
  }

  let stopping = false;
  let queue: Promise<unknown> = Promise.resolve();
  const reload = (): Promise<ReloadResult> => {
    const run = queue
      .then(() => reloadWorkers(workers, parts.loadConfig, logger))
      .then((result) => reportReload(logger, metrics.reloads, result));
    queue = run;
    return run;
  };
  const notReadyReason = async (): Promise<string | undefined> => {
    if (stopping) return 'draining';
    const missing = workers.missingWorker();
    if (missing !== undefined) return missing;
    const answers = await workers.ask<Extract<FromWorker, { grpcProxy: 'ready' }>>(
      (id) => ({ grpcProxy: 'ready?', id }),
      READY_TIMEOUT_MS,
    );
    for (const [slot, answer] of answers) {
      if (answer === undefined) return `worker ${slot} does not answer`;
      if (answer.reason !== null) return `worker ${slot}: ${answer.reason}`;
    }
    return undefined;
  };
  const aggregator = new AggregatorRegistry();
  let admin: AdminServer | undefined;
  if (config.admin) {
    try {
      admin = await startAdminServer(config.admin.listen, {
        registry: {
          contentType: aggregator.contentType,
          metrics: async () =>
            (await aggregator.clusterMetrics()) + (await metrics.registry.metrics()),
        },
        notReadyReason,
        reload,
      });
    } catch (error) {
      workers.kill();
      await workers.exited();
      return fail(io, EXIT_CODES.startFailed, (error as Error).message);
    }
  }
  return new Promise<ExitCode>((resolve) => {
    const onSignal = (signal: CommandSignal) => {
      if (signal === 'SIGHUP') {
        logger.info({ signal }, 'reloading the config');
        void reload();
        return;
      }
      logger.info(
        { signal },
        stopping ? 'second signal: forwarded to the workers' : 'shutting down',
      );
      stopping = true;
      workers.stop(signal);
    };
    const signals: CommandSignal[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
    signals.forEach((signal) => io.signals.on(signal, onSignal));
    // Only now: a signal sent on reading this line must find its handler.
    logger.info(
      {
        addresses,
        admin: admin?.address,
        backends: config.backends.map((backend) => backend.name),
        workers: config.workers,
      },
      'grpc-proxy listening',
    );
    void workers.exited().then(async (codes) => {
      signals.forEach((signal) => io.signals.off(signal, onSignal));
      await admin?.close();
      logger.info({ exitCodes: codes }, 'grpc-proxy stopped');
      resolve(codes.every((code) => code === 0) ? EXIT_CODES.ok : EXIT_CODES.shutdownFailed);
    });
  });
}
