import type { ResolvedProxyConfig } from './config/types';
import type { ShutdownSignal } from './command';
import type { ReloadResult } from './reload';

/**
 * The environment variable that makes a cluster worker of the `grpc-proxy` command serve as one
 * (its value: the worker's slot, 1 to N); the primary sets it on every fork.
 */
export const WORKER_ENV = 'GRPC_PROXY_WORKER';

/**
 * The environment variable holding the resolved config (JSON) a new worker serves: the primary's
 * running one, so that a worker started after a reload serves what the others do, even if the
 * file changed since without a reload.
 */
export const WORKER_CONFIG_ENV = 'GRPC_PROXY_WORKER_CONFIG';

/** What the primary tells a worker. */
export type ToWorker =
  | { readonly grpcProxy: 'signal'; readonly signal: ShutdownSignal }
  | { readonly grpcProxy: 'ready?'; readonly id: number }
  | { readonly grpcProxy: 'reload'; readonly id: number; readonly config: ResolvedProxyConfig };

/** What a worker tells the primary. */
export type FromWorker =
  | { readonly grpcProxy: 'listening'; readonly addresses: readonly string[] }
  | { readonly grpcProxy: 'ready'; readonly id: number; readonly reason: string | null }
  | { readonly grpcProxy: 'reloaded'; readonly id: number; readonly result: ReloadResult };

/** True for a message of this protocol (cluster also carries prom-client's and node's own). */
export function isProxyMessage<T extends { grpcProxy: string }>(message: unknown): message is T {
  return typeof message === 'object' && message !== null && 'grpcProxy' in message;
}
