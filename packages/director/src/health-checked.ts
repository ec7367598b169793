import { EventEmitter } from 'node:events';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Backend, ProxyCall, Route } from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import type { BackoffOptions } from './backoff';
import type { HealthStatus } from './health-watcher';
import { HealthWatcher } from './health-watcher';
import type { BackendSet } from './route-target';
import { closeTarget, describeTarget, isTargetAvailable, unavailableReason } from './route-target';

/**
 * Defaults of {@link HealthCheckedOptions} for backends that do not implement `Watch` and are
 * polled with `Check` instead: `pollIntervalMs` 5000 (a `Check` every 5 s), `checkTimeoutMs`
 * 1000 (each with a 1 s deadline, as Kubernetes gRPC probes use). The `grpc-proxy` command's
 * `healthCheck.intervalMs` / `healthCheck.timeoutMs` default to these.
 */
export const HEALTH_CHECK_DEFAULTS = Object.freeze({
  pollIntervalMs: 5000,
  checkTimeoutMs: 1000,
} as const);

/** Options of {@link healthChecked}. */
export interface HealthCheckedOptions {
  /** The grpc.health.v1 service name asked about. Default: `''` (the whole server). */
  service?: string;
  /** Name in error messages. Default: `healthChecked(<backend names>)`. */
  name?: string;
  /** Backoff between attempts to restart a failed `Watch` stream. Default: see {@link BackoffOptions}. */
  backoff?: BackoffOptions;
  /**
   * Interval of `Check` polling, used only when a backend does not implement `Watch`, in ms.
   * Default: `HEALTH_CHECK_DEFAULTS.pollIntervalMs` (5000).
   */
  pollIntervalMs?: number;
  /** Deadline of each polled `Check` call, in ms. Default: `HEALTH_CHECK_DEFAULTS.checkTimeoutMs` (1000). */
  checkTimeoutMs?: number;
}

/** Events of a {@link HealthCheckedSet}. */
export interface HealthCheckedEvents {
  /** A member's status changed (emitted on every change, never for a repeated status). */
  change: [backend: Backend, status: HealthStatus, previous: HealthStatus];
}

/**
 * Backends whose grpc.health.v1 status is kept up to date; a backend takes calls only while
 * `SERVING` and available to passive health (see `createBackend`: a backend whose connection
 * failed is left out at once, even if its last health answer was `SERVING`). Created by
 * {@link healthChecked}.
 *
 * Use it in `roundRobin(set)` to rotate over the serving members, or in `failover(set)` (or
 * directly as a route target) to send each call to the first serving member, in the given order.
 * Emits `change` (backend, status, previous) on every change.
 *
 * Owns its backends: `close()` stops the health calls and timers and closes the backends.
 */
export class HealthCheckedSet extends EventEmitter<HealthCheckedEvents> implements BackendSet {
  /** Name in error messages. */
  readonly name: string;
  /** The members, in the order given. */
  readonly backends: readonly Backend[];
  private readonly watchers: ReadonlyMap<Backend, HealthWatcher>;
  private readonly settledWaiters = new Set<() => void>();
  private closed = false;

  /** Starts watching `backends` at once; {@link healthChecked} does the same. */
  constructor(backends: readonly Backend[], options: HealthCheckedOptions = {}) {
    super();
    this.backends = validateMembers(backends);
    this.name = options.name ?? `healthChecked(${this.backends.map(describeTarget).join(', ')})`;
    const settings = {
      service: options.service ?? '',
      backoff: options.backoff ?? {},
      pollIntervalMs: options.pollIntervalMs ?? HEALTH_CHECK_DEFAULTS.pollIntervalMs,
      checkTimeoutMs: options.checkTimeoutMs ?? HEALTH_CHECK_DEFAULTS.checkTimeoutMs,
    };
    const watchers = new Map<Backend, HealthWatcher>();
    for (const backend of this.backends) {
      const onStatus = (status: HealthStatus, previous: HealthStatus) =>
        this.onStatus(backend, status, previous);
      watchers.set(backend, new HealthWatcher(backend, settings, onStatus));
    }
    this.watchers = watchers;
    for (const watcher of watchers.values()) watcher.start();
  }

  /** The last known status of a member (`UNKNOWN` before its first answer). */
  statusOf(backend: Backend): HealthStatus {
    const watcher = this.watchers.get(backend);
    if (watcher === undefined)
      throw new TypeError(`${describeTarget(backend)} is not in ${this.name}`);
    return watcher.status;
  }

  /**
   * True while `backend` is a member, `SERVING`, and available to passive health (its
   * `isAvailable()`, when it has one, says true: e.g. its connection did not fail since the
   * last health answer).
   */
  isServing(backend: Backend): boolean {
    return (
      !this.closed && this.watchers.get(backend)?.status === 'SERVING' && isTargetAvailable(backend)
    );
  }

  /** True while at least one member is `SERVING`. */
  isAvailable(): boolean {
    return this.backends.some((backend) => this.isServing(backend));
  }

  /** The members that are `SERVING` now, in order. */
  servingBackends(): Backend[] {
    return this.backends.filter((backend) => this.isServing(backend));
  }

  /**
   * Resolves once every member has answered (or failed to answer) its first health call,
   * so that a server can wait for the initial statuses before taking traffic. Resolves at
   * once after `close()`.
   */
  ready(): Promise<void> {
    if (this.allSettled()) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.add(resolve));
  }

  /** Routes to the first serving member; `UNAVAILABLE` (naming method, set and statuses) when none is. */
  route(call: ProxyCall): Route {
    const backend = this.backends.find((member) => this.isServing(member));
    if (backend === undefined) throw this.unavailable(call.method);
    return { backend };
  }

  /** Stops every health call and timer and closes the member backends. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of this.watchers.values()) watcher.close();
    for (const backend of this.backends) closeTarget(backend);
    this.wakeSettledWaiters();
  }

  /** The `UNAVAILABLE` error for a call that found no serving member. */
  private unavailable(method: string): ProxyStatusError {
    const statuses = this.backends
      .map((backend) => `${describeTarget(backend)}: ${this.reasonOf(backend)}`)
      .join(', ');
    const reason = this.closed ? 'closed' : statuses;
    return new ProxyStatusError(
      grpcStatus.UNAVAILABLE,
      `no backend available for ${method} in ${this.name} (${reason})`,
    );
  }

  /**
   * A member's health status; its connection error (or `closed`) instead when it answered
   * `SERVING` (or nothing yet) but is not available to passive health: the health status says
   * nothing useful then.
   */
  private reasonOf(backend: Backend): string {
    const health = this.statusOf(backend);
    if (health !== 'SERVING' && health !== 'UNKNOWN') return health;
    return isTargetAvailable(backend) ? health : unavailableReason(backend);
  }

  private onStatus(backend: Backend, status: HealthStatus, previous: HealthStatus): void {
    if (this.closed) return;
    if (status !== previous) this.emit('change', backend, status, previous);
    if (this.allSettled()) this.wakeSettledWaiters();
  }

  private allSettled(): boolean {
    return this.closed || [...this.watchers.values()].every((watcher) => watcher.settled);
  }

  private wakeSettledWaiters(): void {
    const waiters = [...this.settledWaiters];
    this.settledWaiters.clear();
    for (const wake of waiters) wake();
  }
}

/**
 * Keeps each backend's grpc.health.v1 status for `options.service` (default `''`) through a
 * `Watch` stream, restarted with backoff when it ends, or `Check` polling where `Watch` is
 * unimplemented. See {@link HealthCheckedSet}.
 */
export function healthChecked(
  backends: readonly Backend[],
  options: HealthCheckedOptions = {},
): HealthCheckedSet {
  return new HealthCheckedSet(backends, options);
}

function validateMembers(backends: readonly Backend[]): readonly Backend[] {
  if (!Array.isArray(backends) || backends.length === 0) {
    throw new TypeError('healthChecked: needs a non-empty list of backends');
  }
  for (const backend of backends) {
    if (typeof backend?.client !== 'function' || typeof backend.name !== 'string') {
      throw new TypeError('healthChecked: every member must be a backend (name and client())');
    }
  }
  if (new Set(backends).size !== backends.length) {
    throw new TypeError('healthChecked: a backend is listed twice');
  }
  return Object.freeze([...backends]);
}
