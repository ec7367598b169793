import { connect, type ClientHttp2Session, type Settings } from 'node:http2';
import type { BackendTls } from '@grpc-proxy/handler';
import { connectSpec } from './backend-target';

/** One pooled session and the `:authority` its calls carry. */
export interface PooledSession {
  readonly session: ClientHttp2Session;
  readonly authority: string;
}

/**
 * One HTTP/2 session per backend target, shared by every call to it. A session that received
 * GOAWAY, failed or closed is dropped from the pool at once, so no new stream is opened on it
 * (its running streams finish on it); the next call opens a fresh one.
 */
export class SessionPool {
  private readonly sessions = new Map<string, PooledSession>();
  /** A number per TLS options object: sessions are shared only by calls with the same one. */
  private readonly tlsIds = new WeakMap<BackendTls, number>();
  private nextTlsId = 1;
  private closed = false;

  /** @param settings HTTP/2 settings of the backend sessions. */
  constructor(private readonly settings: Settings) {}

  /**
   * The live session to `target` (over TLS with `tls`), connecting one when there is none.
   * Throws after {@link close}.
   */
  get(target: string, tls: BackendTls | undefined): PooledSession {
    const key = tls === undefined ? target : `${this.tlsId(tls)} ${target}`;
    const pooled = this.sessions.get(key);
    if (pooled !== undefined && !pooled.session.closed && !pooled.session.destroyed) return pooled;
    if (this.closed) throw new Error('the proxy is shut down');
    return this.open(key, target, tls);
  }

  /** Closes every session: gracefully, or at once with `destroy`. */
  close(destroy = false): void {
    this.closed = true;
    for (const { session } of this.sessions.values()) {
      if (destroy) session.destroy();
      else session.close();
    }
    if (destroy) this.sessions.clear();
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
    const session = connect(spec.url, { ...spec.options, settings: this.settings });
    const pooled: PooledSession = { session, authority: spec.authority };
    this.sessions.set(key, pooled);
    const forget = (): void => {
      if (this.sessions.get(key) === pooled) this.sessions.delete(key);
    };
    session.on('goaway', forget);
    session.on('close', forget);
    // The calls on it hear of the failure through their streams; the pool only lets it go.
    session.on('error', forget);
    return pooled;
  }
}
