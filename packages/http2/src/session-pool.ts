import {
  connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2Session,
  type OutgoingHttpHeaders,
  type Settings,
} from 'node:http2';
import type { BackendTls } from '@grpc-proxy/handler';
import { connectSpec } from './backend-target';

const POOLED = Symbol('pooled session');

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

/** Grows `session`'s connection-level receive window to `size` once it is connected. */
export function widenConnectionWindow(session: Http2Session, size: number): void {
  if (size <= 65_535) return;
  const widen = (): void => session.setLocalWindowSize(size);
  if (session.connecting) session.once('connect', widen);
  else widen();
}

/**
 * Pings `pooled` every `intervalMs` while it runs streams; destroys it when a ping is not
 * answered within `timeoutMs` (its streams then fail), so calls do not sit on a dead connection.
 */
function keepAlive(pooled: PooledSession, intervalMs: number, timeoutMs: number): void {
  const session = pooled.session;
  const interval = setInterval(() => {
    if (pooled.streams === 0 || session.closed || session.destroyed) return;
    const timer = setTimeout(() => {
      session.destroy(new Error(`keepalive ping not answered within ${timeoutMs} ms`));
    }, timeoutMs);
    // A ping that cannot be sent (session closing) is no sign of a dead peer.
    if (!session.ping(() => clearTimeout(timer))) clearTimeout(timer);
  }, intervalMs);
  interval.unref();
  session.once('close', () => clearInterval(interval));
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

type PooledStream = ClientHttp2Stream & { [POOLED]?: PooledSession };

/** Shared by every stream (no closure per call): gives the stream's slot back to its session. */
function onPooledStreamClose(this: PooledStream): void {
  const pooled = this[POOLED];
  if (pooled !== undefined) pooled.streams--;
}

/** One session of the pool, the `:authority` its calls carry, and how many streams it runs. */
export class PooledSession {
  /** Streams opened and not yet closed. */
  streams = 0;

  constructor(
    readonly session: ClientHttp2Session,
    readonly authority: string,
    /**
     * The backend's `SETTINGS_MAX_CONCURRENT_STREAMS`: until its SETTINGS arrive, what the
     * target's other sessions were told (a burst on a new session would otherwise overshoot it).
     */
    public limit: number,
  ) {}

  /** Whether a new stream may go on this session now. */
  get usable(): boolean {
    return this.streams < this.limit && !this.session.closed && !this.session.destroyed;
  }

  /** Opens a stream on this session. Throws as `session.request` does. */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const stream: PooledStream = this.session.request(headers);
    this.streams++;
    stream[POOLED] = this;
    stream.once('close', onPooledStreamClose);
    return stream;
  }
}

/**
 * HTTP/2 sessions per backend target (and TLS options), shared by every call to it: a call goes
 * on the first session below the backend's `SETTINGS_MAX_CONCURRENT_STREAMS`, and a new session
 * opens when all are full. A session that received GOAWAY, failed or closed leaves the pool at
 * once, so no new stream is opened on it (its running streams finish on it).
 */
export class SessionPool {
  private readonly groups = new Map<string, PooledSession[]>();
  /** The last `SETTINGS_MAX_CONCURRENT_STREAMS` each target announced. */
  private readonly limits = new Map<string, number>();
  /** Targets whose last connection attempt failed. */
  private readonly failures = new Map<string, Failures>();
  /** A number per TLS options object: sessions are shared only by calls with the same one. */
  private readonly tlsIds = new WeakMap<BackendTls, number>();
  private nextTlsId = 1;
  private closed = false;

  /** @param options the settings, idle timeout and keepalive of the backend sessions. */
  constructor(private readonly options: SessionOptions) {}

  /**
   * A session to `target` (over TLS with `tls`) with room for one more stream, connecting a new
   * one when every session is full. Call its `request` before anything else may use the pool.
   * Throws a {@link ReconnectBackoff} while the target's last attempt failed less than the backoff
   * ago, and an `Error` after {@link close}.
   */
  get(target: string, tls: BackendTls | undefined): PooledSession {
    const key = tls === undefined ? target : `${this.tlsId(tls)} ${target}`;
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

  /** Closes every session: gracefully, or at once with `destroy`. */
  close(destroy = false): void {
    this.closed = true;
    for (const group of this.groups.values()) {
      for (const { session } of group) {
        if (destroy) session.destroy();
        else session.close();
      }
    }
    if (destroy) this.groups.clear();
  }

  private connectFailed(key: string, error: Error): void {
    const count = (this.failures.get(key)?.count ?? 0) + 1;
    this.failures.set(key, { count, retryAt: Date.now() + backoffMs(count), lastError: error });
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
    const pooled = new PooledSession(session, spec.authority, this.limits.get(key) ?? Infinity);
    session.on('remoteSettings', (settings: Settings) => {
      pooled.limit = settings.maxConcurrentStreams ?? Infinity;
      this.limits.set(key, pooled.limit);
    });
    const group = this.groups.get(key);
    if (group === undefined) this.groups.set(key, [pooled]);
    else group.push(pooled);
    const forget = (): void => {
      const members = this.groups.get(key);
      const index = members?.indexOf(pooled) ?? -1;
      if (index === -1) return;
      members!.splice(index, 1);
      if (members!.length === 0) this.groups.delete(key);
    };
    // Node's session timeout counts time without traffic on the connection.
    if (idleTimeoutMs > 0) session.setTimeout(idleTimeoutMs, () => session.close());
    if (keepaliveMs > 0) keepAlive(pooled, keepaliveMs, this.options.keepaliveTimeoutMs);
    widenConnectionWindow(session, this.options.connectionWindowSize);
    session.on('goaway', forget);
    session.on('close', forget);
    session.once('connect', () => this.failures.delete(key));
    // The calls on it hear of the failure through their streams; the pool lets it go, and
    // remembers a failed connection attempt for the backoff.
    session.on('error', (error: Error) => {
      forget();
      if (session.connecting) this.connectFailed(key, error);
    });
    return pooled;
  }
}
