import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import {
  EXIT_CODES,
  fail,
  untilStopped,
  type CommandIo,
  type CommandSignal,
  type ExitCode,
} from './command-io';
import { isProxyMessage, WORKER_ENV, type FromWorker, type ToWorker } from './cluster-messages';
import type { ResolvedProxyConfig } from './config/types';
import { createProxyMetrics } from './metrics';
import { startProxy, type ProxyHandle } from './proxy';

/** The slot (1 to N) of this worker process, or undefined when it is not a command's worker. */
export function workerSlot(): string | undefined {
  return process.env[WORKER_ENV];
}

/** The config a worker serves: its primary serves the admin endpoints, and counts workers. */
function workerConfig(config: ResolvedProxyConfig): ResolvedProxyConfig {
  const { admin: _servedByThePrimary, ...rest } = config;
  return rest;
}

function send(message: FromWorker): void {
  process.send?.(message);
}

const ignore = () => undefined;

/** Answers the primary's questions and turns its forwarded signals into `signals` events. */
function onPrimaryMessage(proxy: ProxyHandle, signals: EventEmitter) {
  return (message: unknown) => {
    if (!isProxyMessage<ToWorker>(message)) return;
    switch (message.grpcProxy) {
      case 'signal':
        signals.emit(message.signal, message.signal);
        return;
      case 'ready?':
        send({ grpcProxy: 'ready', id: message.id, reason: proxy.notReadyReason() ?? null });
        return;
      case 'reload':
        void proxy.reload(workerConfig(message.config)).then((result) => {
          send({ grpcProxy: 'reloaded', id: message.id, result });
        });
        return;
    }
  };
}

/**
 * Runs the proxy as one worker of the command's cluster: the listeners are shared through
 * node:cluster, the backends, health checks and metrics are the worker's own (prom-client
 * answers the primary's metric requests with its registry). Signals come from the primary only:
 * a terminal's Ctrl-C or systemd's stop reaches every process of the group, and counted twice
 * a first SIGTERM would end the running calls at once. When the primary is gone, it drains.
 */
export async function runWorker(
  config: ResolvedProxyConfig,
  logger: Logger,
  io: CommandIo,
): Promise<ExitCode> {
  const metrics = createProxyMetrics();
  new AggregatorRegistry(); // installs prom-client's answer to the primary's metric requests
  AggregatorRegistry.setRegistries([metrics.registry]);
  const processSignals: CommandSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  processSignals.forEach((signal) => process.on(signal, ignore));
  let proxy: ProxyHandle;
  try {
    proxy = await startProxy(workerConfig(config), { logger, metrics, countReloads: false });
  } catch (error) {
    return fail(io, EXIT_CODES.startFailed, (error as Error).message);
  }
  const signals = new EventEmitter();
  const onMessage = onPrimaryMessage(proxy, signals);
  const orphaned = () => signals.emit('SIGTERM', 'SIGTERM');
  process.on('message', onMessage);
  process.once('disconnect', orphaned);
  send({ grpcProxy: 'listening', addresses: proxy.addresses });
  try {
    return await untilStopped(proxy, logger, { ...io, signals });
  } finally {
    process.off('message', onMessage);
    process.off('disconnect', orphaned);
    processSignals.forEach((signal) => process.off(signal, ignore));
  }
}
