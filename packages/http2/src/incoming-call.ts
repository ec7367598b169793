import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Metadata, type Deadline } from '@grpc/grpc-js';
import type { ProxyCall } from '@grpc-proxy/handler';
import { filterIncomingMetadata, type CompiledMetadataPolicy } from '@grpc-proxy/handler/engine';

/** The client's address as grpc-js's server reports it (`host:port`, `unknown` on a unix socket). */
function peerOf(stream: ServerHttp2Stream): string {
  const socket = stream.session?.socket;
  if (!socket?.remoteAddress) return 'unknown';
  return socket.remotePort === undefined
    ? socket.remoteAddress
    : `${socket.remoteAddress}:${socket.remotePort}`;
}

/**
 * The `ProxyCall` a director sees, read from the request headers. The metadata, the service
 * name, the deadline as a `Date` and the `AbortSignal` are made only when the director asks for
 * them, so a director that routes by method alone costs no `Metadata` and no base64 decoding.
 */
export class Http2IncomingCall implements ProxyCall {
  readonly method: string;
  readonly authority: string;
  readonly peer: string;
  private metadataCopy: Metadata | undefined = undefined;
  private deadlineDate: Date | undefined = undefined;
  private controller: AbortController | undefined = undefined;
  private gone = false;

  constructor(
    stream: ServerHttp2Stream,
    readonly headers: IncomingHttpHeaders,
    private readonly policy: CompiledMetadataPolicy,
    /** Epoch milliseconds, `Infinity` without `grpc-timeout`. */
    readonly deadlineMs: number,
  ) {
    this.method = headers[':path'] ?? '';
    this.authority = headers[':authority'] ?? '';
    this.peer = peerOf(stream);
  }

  /** Whether the director read (and so may have changed) {@link metadata}. */
  get metadataTouched(): boolean {
    return this.metadataCopy !== undefined;
  }

  get metadata(): Metadata {
    this.metadataCopy ??= filterIncomingMetadata(
      Metadata.fromHttp2Headers(this.headers),
      this.policy,
    );
    return this.metadataCopy;
  }

  get deadline(): Deadline {
    if (this.deadlineMs === Infinity) return Infinity;
    this.deadlineDate ??= new Date(this.deadlineMs);
    return this.deadlineDate;
  }

  get service(): string {
    const end = this.method.lastIndexOf('/');
    return this.method.startsWith('/') && end > 0 ? this.method.slice(1, end) : '';
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.gone) this.controller.abort(new Error('client went away'));
    }
    return this.controller.signal;
  }

  /** The client went away, or the call ended before a route: abort the signal if anyone holds it. */
  clientGone(): void {
    this.gone = true;
    this.controller?.abort(new Error('client went away'));
  }
}
