import type { ClientHttp2Stream, OutgoingHttpHeaders } from 'node:http2';
import type { Route } from '@grpc-proxy/handler';
import type { CompiledMetadataPolicy } from '@grpc-proxy/handler/engine';
import type { Http2Target } from './backend-target';
import { formatGrpcTimeout } from './grpc-timeout';
import { backendRequestHeaders, type RequestSource } from './headers';
import type { SessionPool } from './session-pool';

/**
 * The request a call makes to its backend: opened once, and opened again (same headers, the
 * timeout recomputed) when the backend refused a stream before processing it.
 */
export class BackendRequest {
  private headers: OutgoingHttpHeaders | undefined = undefined;

  constructor(
    private readonly pool: SessionPool,
    private readonly route: Route,
    readonly target: Http2Target,
    private readonly incoming: RequestSource,
    private readonly policy: CompiledMetadataPolicy,
    /** Epoch milliseconds, `Infinity` for none. */
    private readonly deadlineMs: number,
  ) {}

  /** Opens the backend stream. Throws when no session can take it (closing, failed, ...). */
  open(): ClientHttp2Stream {
    const pooled = this.pool.get(this.target.target, this.target.tls);
    const authority = this.route.callOptions?.host ?? pooled.authority;
    // Built once: the metadata policy is applied to the request once (x-forwarded-for...).
    this.headers ??= backendRequestHeaders(this.route, this.incoming, this.policy, authority);
    this.headers[':authority'] = authority;
    // Recomputed, so that the time the proxy spent (director, connecting) is not given twice.
    if (this.deadlineMs !== Infinity) {
      this.headers['grpc-timeout'] = formatGrpcTimeout(this.deadlineMs - Date.now());
    }
    return pooled.request(this.headers);
  }

  /** Opens it again on a session that takes it; `undefined` when none does. */
  reopen(): ClientHttp2Stream | undefined {
    try {
      return this.open();
    } catch {
      return undefined;
    }
  }
}
