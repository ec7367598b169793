import { connect, type ClientHttp2Session, type Settings } from 'node:http2';
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
  private closed = false;

  /** @param settings HTTP/2 settings of the backend sessions. */
  constructor(private readonly settings: Settings) {}

  /** The live session to `target`, connecting one when there is none. Throws after {@link close}. */
  get(target: string): PooledSession {
    const pooled = this.sessions.get(target);
    if (pooled !== undefined && !pooled.session.closed && !pooled.session.destroyed) return pooled;
    if (this.closed) throw new Error('the proxy is shut down');
    return this.open(target);
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

  private open(target: string): PooledSession {
    const spec = connectSpec(target);
    const session = connect(spec.url, { ...spec.options, settings: this.settings });
    const pooled: PooledSession = { session, authority: spec.authority };
    this.sessions.set(target, pooled);
    const forget = (): void => {
      if (this.sessions.get(target) === pooled) this.sessions.delete(target);
    };
    session.on('goaway', forget);
    session.on('close', forget);
    // The calls on it hear of the failure through their streams; the pool only lets it go.
    session.on('error', forget);
    return pooled;
  }
}
