import { connect, type Settings } from 'node:http2';
import type { BackendTls, RouteBackend } from '@grpc-proxy/handler';
import { connectSpec } from './backend-target';
import {
  CLOSED_BEFORE_SETTINGS,
  PooledSession,
  keepAlive,
  widenConnectionWindow,
} from './pooled-session';
import { TargetHealth, isReporting } from './target-health';

export { PooledSession, widenConnectionWindow } from './pooled-session';

/** 100 ms: the wait before connecting again after a failed attempt (as grpc-js backend channels). */
const INITIAL_RECONNECT_BACKOFF_MS = 100;
/** 500 ms: the longest wait between two attempts: a backend that is back is used within it. */
const MAX_RECONNECT_BACKOFF_MS = 500;

/** Thrown by {@link SessionPool.get} while a target is between connection attempts. */
export class ReconnectBackoff extends Error {
  override readonly name = 'ReconnectBackoff';

  constructor(
    /** When the next attempt may start (epoch ms). */
    readonly retryAt: number,
    /** Why the last attempt failed. */
    readonly lastError: Error,
  ) {
    super(`not connecting again before ${retryAt - Date.now()} ms: ${lastError.message}`);
  }
}

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
}

/** Consecutive failed connection attempts to one target, and when the next may start. */
interface Failures {
  count: number;
  retryAt: number;
  lastError: Error;
}

/** 100, 200, 400, 500, 500... ms, each ± 20 % so that many proxies do not try in step. */
function backoffMs(failures: number): number {
  const base = Math.min(
    INITIAL_RECONNECT_BACKOFF_MS * 2 ** (failures - 1),
    MAX_RECONNECT_BACKOFF_MS,
  );
  return base * (0.8 + 0.4 * Math.random());
}

/**
 * HTTP/2 sessions per backend target (and TLS options), shared by every call to it: a call goes
 * on the first session below the backend's `SETTINGS_MAX_CONCURRENT_STREAMS`, and a new session
 * opens when all are full. A session that received GOAWAY, failed or closed leaves the pool at
 * once, so no new stream is opened on it (its running streams finish on it).
 *
 * Passive health: each connection attempt's outcome goes to the backends routed to its target
 * that report (`backend.reportConnection`); while one of them is out of rotation, nothing routes
 * calls there, so the pool probes the target itself: a connection attempt at each backoff time.
 * A connection such a target lost (closed, GOAWAY) is replaced at once (at most once per backoff
 * step), so that a dead target is known before calls go to it.
 */
export class SessionPool {
  private readonly groups = new Map<string, PooledSession[]>();
  /** The last `SETTINGS_MAX_CONCURRENT_STREAMS` each target announced. */
  private readonly limits = new Map<string, number>();
  /** Targets whose last connection attempt failed. */
  private readonly failures = new Map<string, Failures>();
  /** Targets with backends that report connection attempts. */
  private readonly health = new Map<string, TargetHealth>();
  /** A number per TLS options object: sessions are shared only by calls with the same one. */
  private readonly tlsIds = new WeakMap<BackendTls, number>();
  private nextTlsId = 1;
  private closed = false;

  /** @param options the settings, idle timeout and keepalive of the backend sessions. */
  constructor(private readonly options: SessionOptions) {}

  /**
   * A session to `target` (over TLS with `tls`) with room for one more stream, connecting a new
   * one when every session is full. Call its `request` before anything else may use the pool.
   * `backend` (the route's) hears how the target's connection attempts end when it reports.
   * Throws a {@link ReconnectBackoff} while the target's last attempt failed less than the backoff
   * ago, and an `Error` after {@link close}.
   */
  get(target: string, tls: BackendTls | undefined, backend?: RouteBackend): PooledSession {
    const key = tls === undefined ? target : `${this.tlsId(tls)} ${target}`;
    if (isReporting(backend) && !this.closed) {
      let health = this.health.get(key);
      if (health === undefined) this.health.set(key, (health = new TargetHealth(target, tls)));
      health.add(backend);
    }
    const group = this.groups.get(key);
    let pooled = group?.find((candidate) => candidate.usable);
    if (pooled === undefined) {
      if (this.closed) throw new Error('the proxy is shut down');
      const failed = this.failures.get(key);
      if (failed !== undefined && Date.now() < failed.retryAt) {
        throw new ReconnectBackoff(failed.retryAt, failed.lastError);
      }
      pooled = this.open(key, target, tls);
    }
    return pooled;
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
    for (const group of this.groups.values()) {
      for (const { session } of group) {
        if (destroy) session.destroy();
        else session.close();
      }
    }
    if (destroy) this.groups.clear();
  }

  /** How a connection attempt ended: the backoff, the reports, and a probe while one is down. */
  private readonly attemptSettled = (pooled: PooledSession, error: Error | undefined): void => {
    const key = pooled.key;
    if (error === undefined) {
      this.failures.delete(key);
    } else {
      this.forget(pooled);
      const count = (this.failures.get(key)?.count ?? 0) + 1;
      this.failures.set(key, { count, retryAt: Date.now() + backoffMs(count), lastError: error });
    }
    const health = this.health.get(key);
    if (this.closed || health === undefined) return;
    health.report(error);
    if (health.empty) {
      health.cancel();
      this.health.delete(key);
    } else if (error !== undefined && health.anyDown()) {
      health.schedule(this.failures.get(key)!.retryAt, () => this.probe(key, health, false));
    }
  };

  /**
   * A connected session was lost (closed by the backend, GOAWAY, failed): when backends report
   * for its target and no other session is left, connects again, no sooner than the first
   * backoff step after the lost one was opened (a backend that accepts and drops connections is
   * not hammered).
   */
  private readonly lost = (pooled: PooledSession): void => {
    const health = this.health.get(pooled.key);
    if (this.closed || pooled.retired || health === undefined || health.empty) return;
    if (this.groups.get(pooled.key)?.some((other) => other.usable)) return;
    const at = pooled.openedAt + INITIAL_RECONNECT_BACKOFF_MS;
    health.schedule(at, () => this.probe(pooled.key, health, true));
  };

  /**
   * A probe is due: connects to the target if one of its reporting backends is still down (or
   * its session was lost: `always`) and no attempt is under way (a call's is reported as well).
   */
  private probe(key: string, health: TargetHealth, always: boolean): void {
    if (this.closed || this.health.get(key) !== health) return;
    if (!always && !health.anyDown()) return;
    if (this.groups.get(key)?.some((pooled) => pooled.connecting)) return;
    this.open(key, health.target, health.tls);
  }

  private forget(pooled: PooledSession): void {
    const members = this.groups.get(pooled.key);
    const index = members?.indexOf(pooled) ?? -1;
    if (index === -1) return;
    members!.splice(index, 1);
    if (members!.length === 0) this.groups.delete(pooled.key);
  }

  private tlsId(tls: BackendTls): number {
    let id = this.tlsIds.get(tls);
    if (id === undefined) {
      id = this.nextTlsId++;
      this.tlsIds.set(tls, id);
    }
    return id;
  }

  private open(key: string, target: string, tls: BackendTls | undefined): PooledSession {
    const spec = connectSpec(target, tls);
    const { settings, idleTimeoutMs, keepaliveMs } = this.options;
    // Uncapped as on the listening side (see server.ts): the windows bound it.
    const session = connect(spec.url, {
      ...spec.options,
      settings,
      maxSessionMemory: Number.MAX_SAFE_INTEGER,
    });
    const pooled = new PooledSession(
      session,
      spec.authority,
      this.limits.get(key) ?? Infinity,
      key,
      this.attemptSettled,
    );
    session.on('remoteSettings', (settings: Settings) => {
      pooled.limit = settings.maxConcurrentStreams ?? Infinity;
      this.limits.set(key, pooled.limit);
      pooled.connectedNow();
    });
    const group = this.groups.get(key);
    if (group === undefined) this.groups.set(key, [pooled]);
    else group.push(pooled);
    const forget = (): void => this.forget(pooled);
    // Node's session timeout counts time without traffic on the connection.
    if (idleTimeoutMs > 0) {
      session.setTimeout(idleTimeoutMs, () => {
        pooled.retired = true;
        session.close();
      });
    }
    if (keepaliveMs > 0) keepAlive(pooled, keepaliveMs, this.options.keepaliveTimeoutMs);
    widenConnectionWindow(session, this.options.connectionWindowSize);
    session.on('goaway', () => {
      forget();
      if (pooled.connected) this.lost(pooled);
    });
    // The calls on it hear of a failure through their streams; the pool lets it go, and a
    // session that never connected is a failed attempt (backoff, reports).
    session.on('close', () => {
      forget();
      if (pooled.connected) this.lost(pooled);
      else pooled.failedToConnect(new Error(CLOSED_BEFORE_SETTINGS));
    });
    session.on('error', (error: Error) => {
      forget();
      pooled.failedToConnect(error);
    });
    return pooled;
  }
}
