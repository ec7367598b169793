import type { Settings } from 'node:http2';
import type { BackendTls, RouteBackend } from '@grpc-proxy/handler';
import { connectSpec } from './backend-target';
import {
  DEFAULT_BACKEND_CONNECT_ATTEMPT_TIMEOUT_MS,
  DEFAULT_BACKEND_RESOLVE_INTERVAL_MS,
} from './options';
import type { PooledSession } from './pooled-session';
import { INITIAL_RECONNECT_BACKOFF_MS, oneMoreFailure } from './reconnect-backoff';
import { pickSession } from './address-pick';
import { openPooledSession } from './session-opening';
import {
  TargetAddresses,
  lookupAllAddresses,
  type AddressSlot,
  type Http2BackendLookup,
} from './target-addresses';
import { TargetHealth, isReporting } from './target-health';

export { PooledSession, widenConnectionWindow } from './pooled-session';
export { ReconnectBackoff } from './reconnect-backoff';

/** How the pool's sessions are set up. */
export interface SessionOptions {
  /** HTTP/2 settings of the backend sessions. */
  readonly settings: Settings;
  /** A session without traffic for this long is closed; `0`: never. */
  readonly idleTimeoutMs: number;
  /** Milliseconds between pings on a session that runs streams; `0`: none. */
  readonly keepaliveMs: number;
  /** A ping unanswered for this long destroys the session. */
  readonly keepaliveTimeoutMs: number;
  /** The connection-level receive window, in bytes. */
  readonly connectionWindowSize: number;
  /**
   * A session whose backend has not sent its HTTP/2 settings this long after the attempt began
   * (name resolution, TCP, TLS) is destroyed, a failed attempt; `0`: no limit. Default: 20 000.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Milliseconds after which a name's addresses are resolved again when the next call (or probe)
   * comes; at once when one of them starts failing or loses its connection. Default: 30 000.
   */
  readonly resolveIntervalMs?: number;
  /** Resolves host names to all their addresses. Default: the OS resolver, every address. */
  readonly lookup?: Http2BackendLookup;
}

/**
 * HTTP/2 sessions per backend target (and TLS options), shared by every call to it. A target
 * named by a host name (`dns:` or `host:port`) is resolved to all its addresses, with sessions
 * per address: new calls take in turn the addresses with a connected session with room, while
 * the others are connected in the background (no call waits on an address that is still
 * connecting while another is ready); with none ready, the next address in turn with a session
 * with room or that may connect now. The name is resolved again when an address starts failing
 * or loses its connection, and when its addresses are older than `resolveIntervalMs`; a gone
 * address takes no new stream and its sessions close once their streams end. On an address, a
 * call goes on the first session below the backend's `SETTINGS_MAX_CONCURRENT_STREAMS`, a new
 * session opens when all are full. A session that received GOAWAY, failed or closed leaves the
 * pool at once, so no new stream is opened on it (its running streams finish on it). A session
 * that has not connected within `connectTimeoutMs` is destroyed, a failed attempt.
 *
 * Passive health: each connection attempt's outcome goes to the backends routed to its target
 * that report (`backend.reportConnection`): a connection, or a failure once every address failed
 * (the target is up while any address connects). While one of them is out of rotation, nothing
 * routes calls there, so the pool probes the target itself: a connection attempt at each backoff
 * time, until one connects. A connection such a target lost (closed, GOAWAY) is replaced at once
 * (at most once per backoff step) when no other session is left, so that a dead target is known
 * before calls go there.
 */
export class SessionPool {
  private readonly targets = new Map<string, TargetAddresses>();
  /** The last `SETTINGS_MAX_CONCURRENT_STREAMS` each target announced. */
  private readonly limits = new Map<string, number>();
  /** Targets with backends that report connection attempts. */
  private readonly health = new Map<string, TargetHealth>();
  /** A number per TLS options object: sessions are shared only by calls with the same one. */
  private readonly tlsIds = new WeakMap<BackendTls, number>();
  private nextTlsId = 1;
  private closed = false;
  private readonly connectTimeoutMs: number;
  private readonly resolveIntervalMs: number;
  private readonly lookup: Http2BackendLookup;

  /** @param options the settings, timeouts, keepalive and name resolution of the backend sessions. */
  constructor(private readonly options: SessionOptions) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_BACKEND_CONNECT_ATTEMPT_TIMEOUT_MS;
    this.resolveIntervalMs = options.resolveIntervalMs ?? DEFAULT_BACKEND_RESOLVE_INTERVAL_MS;
    this.lookup = options.lookup ?? lookupAllAddresses;
  }

  /**
   * A session to `target` (over TLS with `tls`) with room for one more stream: on the next
   * address in turn, connecting a new one when its sessions are full. Call its `request` before
   * anything else may use the pool. `backend` (the route's) hears how the target's connection
   * attempts end when it reports. Throws a {@link ReconnectBackoff} while every address's last
   * attempt (or the name's resolution) failed less than the backoff ago, and an `Error` after
   * {@link close}.
   */
  get(target: string, tls: BackendTls | undefined, backend?: RouteBackend): PooledSession {
    const key = tls === undefined ? target : `${this.tlsId(tls)} ${target}`;
    if (isReporting(backend) && !this.closed) {
      let health = this.health.get(key);
      if (health === undefined) this.health.set(key, (health = new TargetHealth(target, tls)));
      health.add(backend);
    }
    let addresses = this.targets.get(key);
    if (addresses === undefined) {
      addresses = new TargetAddresses(key, target, tls, connectSpec(target, tls));
      this.targets.set(key, addresses);
    }
    this.resolveWhenOld(addresses);
    return pickSession(addresses, this.open, this.closed);
  }

  /** Targets with a probe due (for tests: none once closed). */
  get probing(): number {
    let count = 0;
    for (const health of this.health.values()) if (health.probing) count++;
    return count;
  }

  /** Closes every session: gracefully, or at once with `destroy`. Probes stop. */
  close(destroy = false): void {
    this.closed = true;
    for (const health of this.health.values()) health.cancel();
    this.health.clear();
    for (const addresses of this.targets.values()) {
      for (const { session } of [...addresses.sessions()]) {
        if (destroy) session.destroy();
        else session.close();
      }
    }
  }

  private readonly stillOpen = (): boolean => !this.closed;

  /**
   * How a connection attempt ended: the backoff (of its address, or of the name's resolution),
   * a new resolution after a failure, the reports, and a probe while one is down.
   */
  private readonly attemptSettled = (pooled: PooledSession, error: Error | undefined): void => {
    const addresses = pooled.target;
    const slot = pooled.slot;
    // An address that is gone: its attempts say nothing of the target.
    const gone = slot?.removed === true;
    if (error === undefined) {
      if (slot !== undefined) slot.failures = undefined;
      addresses.failures = undefined;
    } else {
      addresses.remove(pooled);
      if (slot === undefined) addresses.failures = oneMoreFailure(addresses.failures, error);
      else if (!gone) slot.failures = oneMoreFailure(slot.failures, error);
      // When the address starts failing (not at each probe of a dead one: every
      // resolveIntervalMs, as for the others).
      if (slot?.failures?.count === 1 && !gone) this.resolveAgain(addresses);
    }
    const health = this.health.get(addresses.key);
    if (this.closed || health === undefined) return;
    if (!gone && (error === undefined || addresses.down())) health.report(error);
    if (health.empty) {
      health.cancel();
      this.health.delete(addresses.key);
    } else if (error !== undefined && health.anyDown()) {
      // Out of rotation, no call comes: probes go on until one connects.
      const at = addresses.nextAttemptAt(Date.now());
      health.schedule(at, () => this.probe(addresses, health, false));
    }
  };

  /**
   * A connected session was lost (closed by the backend, GOAWAY, failed): its name is resolved
   * again; when backends report
   * for its target and no other session is left, connects again, no sooner than the first
   * backoff step after the lost one was opened (a backend that accepts and drops connections is
   * not hammered).
   */
  private readonly lost = (pooled: PooledSession): void => {
    // Its address may be gone (a backend replaced under the same name).
    if (!pooled.retired) this.resolveAgain(pooled.target);
    const health = this.health.get(pooled.target.key);
    if (this.closed || pooled.retired || health === undefined || health.empty) return;
    if (pooled.target.anyUsable()) return;
    const at = pooled.openedAt + INITIAL_RECONNECT_BACKOFF_MS;
    health.schedule(at, () => this.probe(pooled.target, health, true));
  };

  /**
   * A probe is due: connects to the target's next address if one of its reporting backends is
   * still down (or its session was lost: `always`) and no attempt is under way (a call's is
   * reported as well).
   */
  private probe(addresses: TargetAddresses, health: TargetHealth, always: boolean): void {
    if (this.closed || this.health.get(addresses.key) !== health) return;
    if (!always && !health.anyDown()) return;
    if (addresses.connecting()) return;
    // No call comes to a target out of rotation: its addresses age here.
    this.resolveWhenOld(addresses);
    this.open(
      addresses,
      addresses.slots === undefined ? undefined : addresses.connectable(Date.now()),
    );
  }

  /** Resolves the target's name again when its addresses are `resolveIntervalMs` old. */
  private resolveWhenOld(addresses: TargetAddresses): void {
    // Only names age; Date.now() only for them (this runs for every call).
    if (
      addresses.spec.hostname !== undefined &&
      addresses.slots !== undefined &&
      Date.now() - addresses.resolvedAt >= this.resolveIntervalMs
    ) {
      this.resolveAgain(addresses);
    }
  }

  /**
   * Resolves the target's name again in the background, unless it is being resolved; a failure
   * keeps the addresses known (a failed connection is what takes the target out).
   */
  private resolveAgain(addresses: TargetAddresses): void {
    if (this.closed || addresses.spec.hostname === undefined || addresses.resolving) return;
    addresses.resolve(this.lookup, this.stillOpen).catch(() => undefined);
  }

  private tlsId(tls: BackendTls): number {
    let id = this.tlsIds.get(tls);
    if (id === undefined) {
      id = this.nextTlsId++;
      this.tlsIds.set(tls, id);
    }
    return id;
  }

  /** Opens a session to `slot`'s address, or, without one, to the address its name resolves to first. */
  private readonly open = (
    addresses: TargetAddresses,
    slot: AddressSlot | undefined,
  ): PooledSession => {
    const pooled = openPooledSession(addresses, slot, {
      ...this.options,
      connectTimeoutMs: this.connectTimeoutMs,
      limit: this.limits.get(addresses.key) ?? Infinity,
      resolve: () => addresses.resolve(this.lookup, this.stillOpen),
      settled: this.attemptSettled,
      lost: this.lost,
      announced: (limit) => this.limits.set(addresses.key, limit),
    });
    if (slot === undefined) addresses.pending.push(pooled);
    else slot.sessions.push(pooled);
    return pooled;
  };
}
