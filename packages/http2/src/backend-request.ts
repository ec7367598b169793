import type { ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { Route } from '@grpc-proxy/handler';
import type { CompiledMetadataPolicy } from '@grpc-proxy/handler/engine';
import type { Http2Target } from './backend-target';
import { formatGrpcTimeout } from './grpc-timeout';
import { backendRequestHeaders, type RequestSource } from './headers';
import type { PooledSession, SessionPool } from './session-pool';
import type { StreamSession } from './stream-outcome';

/**
 * The request a call makes to one route's backend, opened once per attempt on that route (the
 * headers built once, the timeout recomputed), and the session it went on.
 */
export class BackendRequest implements StreamSession {
  private headers: OutgoingHttpHeaders | undefined = undefined;
  /** The session of the last stream opened. */
  pooled: PooledSession | undefined = undefined;
  /**
   * `grpc-accept-encoding` sent instead of the client's (a fan-out asks its legs for
   * `identity`). Default: `undefined`, the client's passes through.
   */
  acceptEncoding: string | undefined = undefined;

  constructor(
    private readonly pool: SessionPool,
    readonly route: Route,
    readonly target: Http2Target,
    readonly incoming: RequestSource,
    private readonly policy: CompiledMetadataPolicy,
    /** Epoch milliseconds, `Infinity` for none. */
    readonly deadlineMs: number,
  ) {}

  /** Opens the backend stream. Throws when no session can take it (closing, failed, ...). */
  open(): ClientHttp2Stream {
    const pooled = this.pool.get(this.target.target, this.target.tls, this.route.backend);
    const authority = this.route.callOptions?.host ?? pooled.authority;
    // Built once: the metadata policy is applied to the request once (x-forwarded-for...).
    this.headers ??= backendRequestHeaders(this.route, this.incoming, this.policy, authority);
    this.headers[':authority'] = authority;
    if (this.acceptEncoding !== undefined)
      this.headers['grpc-accept-encoding'] = this.acceptEncoding;
    // Recomputed, so that the time the proxy spent (director, connecting) is not given twice.
    if (this.deadlineMs !== Infinity) {
      this.headers['grpc-timeout'] = formatGrpcTimeout(this.deadlineMs - Date.now());
    }
    const stream = pooled.request(this.headers);
    this.pooled = pooled;
    return stream;
  }

  /**
   * Why the stream's session failed before it connected, if it did: its request never reached
   * a backend.
   */
  get connectFailure(): Error | undefined {
    return this.pooled?.failure;
  }

  /** Whether the stream's session is gone (closed by the backend, failed). */
  get sessionLost(): boolean {
    return this.pooled?.session.destroyed ?? false;
  }
}
