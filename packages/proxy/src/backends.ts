import type { ChannelOptions } from '@grpc/grpc-js';
import {
  createBackend,
  healthChecked,
  roundRobin,
  type ComposedDirector,
  type HealthCheckedSet,
  type HealthStatus,
  type OwnedBackend,
} from '@grpc-proxy/director';
import type { ProxyCall } from '@grpc-proxy/handler';
import type { ResolvedBackend } from './config/types';
import { backendCredentials } from './tls';

/** A health change of one target of a backend. */
export interface TargetHealthChange {
  /** The backend's config name. */
  readonly backend: string;
  /** The target whose status changed. */
  readonly target: string;
  /** The new status. */
  readonly status: HealthStatus;
  /** The status before. */
  readonly previous: HealthStatus;
}

/** A config backend made real: its targets' channels, health checking and balancing. */
export interface BackendGroup {
  /** The config name. */
  readonly name: string;
  /** Routes a call to one target of the group. */
  readonly director: ComposedDirector;
  /** Resolves once each health-checked target has answered its first check (at once without health checks). */
  ready(): Promise<void>;
  /** Stops health checking and closes every target's channel. */
  close(): void;
}

/** The name a target gets in logs, metrics and `CallReport.backend`: `<backend>/<target>`. */
export function memberName(backend: string, target: string): string {
  return `${backend}/${target}`;
}

/**
 * Builds one backend group from its config: a `createBackend` per target (with the backend's
 * TLS and the given channel options), `healthChecked` when health checking is on, and
 * `roundRobin` (or first-serving, for `first_healthy`) balancing over them.
 */
export function createBackendGroup(
  config: ResolvedBackend,
  channelOptions: ChannelOptions,
  onHealthChange: (change: TargetHealthChange) => void,
): BackendGroup {
  const tls = backendCredentials(config.tls);
  const targetOf = new Map<OwnedBackend, string>();
  const members = config.targets.map((target) => {
    const member = createBackend(target, {
      name: memberName(config.name, target),
      credentials: tls.credentials,
      channelOptions: { ...channelOptions, ...tls.channelOptions },
    });
    targetOf.set(member, target);
    return member;
  });
  if (!config.healthCheck) {
    // Validation makes first_healthy require health checks: without them there is no "healthy".
    const director = roundRobin(members);
    return {
      name: config.name,
      director,
      ready: () => Promise.resolve(),
      close: () => director.close(),
    };
  }
  const set = healthChecked(members, {
    name: config.name,
    service: config.healthCheck.service,
    pollIntervalMs: config.healthCheck.intervalMs,
    checkTimeoutMs: config.healthCheck.timeoutMs,
  });
  set.on('change', (member, status, previous) => {
    const target = targetOf.get(member as OwnedBackend) ?? member.name;
    onHealthChange({ backend: config.name, target, status, previous });
  });
  const director = config.balancing === 'round_robin' ? roundRobin(set) : firstServing(set);
  return { name: config.name, director, ready: () => set.ready(), close: () => director.close() };
}

/** First-healthy balancing: every call goes to the set's first serving target, in config order. */
function firstServing(set: HealthCheckedSet): ComposedDirector {
  const director = ((call: ProxyCall) => set.route(call)) as ComposedDirector;
  Object.defineProperties(director, {
    name: { value: `firstServing(${set.name})` },
    isAvailable: { value: () => set.isAvailable() },
    close: { value: () => set.close() },
  });
  return director;
}
