import {
  createBackend,
  failover,
  healthChecked,
  roundRobin,
  type ComposedDirector,
  type HealthStatus,
  type OwnedBackend,
} from '@grpc-proxy/director';
import type { BackendChannelOptions } from '@grpc-proxy/handler';
import type { ResolvedBackend } from './config/types';
import { backendTlsPem } from './tls';

/** A health change of one target of a backend. */
export interface TargetHealthChange {
  /** The backend's config name (the `backend` label of the metrics). */
  readonly backend: string;
  /** The target, as the config lists it (the `target` label). */
  readonly target: string;
  /** What the target's health is now; only `SERVING` takes calls. */
  readonly status: HealthStatus;
  /** What it was before this change (`UNKNOWN` before the first answer). */
  readonly previous: HealthStatus;
}

/** A passive-health change of one target of a backend: what its connections showed. */
export interface TargetAvailabilityChange {
  /** The backend's config name. */
  readonly backend: string;
  /** The target, as the config lists it. */
  readonly target: string;
  /** True: back in rotation (a connection worked); false: out (a connection failed). */
  readonly available: boolean;
  /** Why it is out of rotation (the failed connection's error); undefined when available. */
  readonly error: Error | undefined;
}

/** A config backend made real: its targets' channels, health checking and balancing. */
export interface BackendGroup {
  /** The backend's config name. */
  readonly name: string;
  /** Routes a call to one target of the group. */
  readonly director: ComposedDirector;
  /** Resolves once each health-checked target has answered its first check (at once without health checks). */
  ready(): Promise<void>;
  /** Stops health checking and closes every target's channel. */
  close(): void;
}

/**
 * The `Backend` name of one target of a backend, `<backend>/<target>`: what error messages, logs
 * and `CallReport.backend` show (metrics label the two parts separately).
 */
export function memberName(backend: string, target: string): string {
  return `${backend}/${target}`;
}

/**
 * Builds one backend group from its config: a `createBackend` per target (with the backend's
 * TLS as PEM, which both engines use, and the given channel options), `healthChecked` when
 * health checking is on, and `roundRobin` (or `failover`, for `first_healthy`) balancing over
 * them. `onHealthChange` hears the health checks' changes, `onAvailabilityChange` (default: no
 * one) the passive-health changes of every target (ejected on a failed connection, back on a
 * working one), with or without health checks.
 */
export function createBackendGroup(
  config: ResolvedBackend,
  channel: BackendChannelOptions,
  onHealthChange: (change: TargetHealthChange) => void,
  onAvailabilityChange: (change: TargetAvailabilityChange) => void = () => undefined,
): BackendGroup {
  const tls = backendTlsPem(config.tls);
  const targetOf = new Map<OwnedBackend, string>();
  const members = config.targets.map((target) => {
    const member = createBackend(target, {
      ...channel,
      name: memberName(config.name, target),
      ...(tls && { tls }),
      onHealthChange: (available: boolean, error: Error | undefined) =>
        onAvailabilityChange({ backend: config.name, target, available, error }),
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
  const director = config.balancing === 'round_robin' ? roundRobin(set) : failover(set);
  return { name: config.name, director, ready: () => set.ready(), close: () => director.close() };
}
