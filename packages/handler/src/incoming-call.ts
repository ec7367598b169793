import type { Deadline, Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import type { ProxyCall } from './contracts';
import { filterIncomingMetadata, type CompiledMetadataPolicy } from './metadata-policy';

/**
 * The `ProxyCall` a director sees. The service name and the `AbortSignal` are made only when the
 * director asks for them, so a director that ignores them costs nothing.
 */
export class IncomingCall implements ProxyCall {
  private controller: AbortController | undefined;
  private gone = false;

  constructor(
    readonly method: string,
    readonly metadata: Metadata,
    readonly peer: string,
    readonly authority: string,
    readonly deadline: Deadline,
  ) {}

  /** The call `stream` carries, its metadata filtered by `policy` (in place). */
  static of(
    stream: ServerDuplexStream<Buffer, Buffer>,
    policy: CompiledMetadataPolicy,
  ): IncomingCall {
    return new IncomingCall(
      stream.getPath(),
      filterIncomingMetadata(stream.metadata, policy),
      stream.getPeer(),
      stream.getHost(),
      stream.getDeadline(),
    );
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
