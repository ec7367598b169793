import type { IncomingHttpHeaders } from 'node:http2';
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import type { Route } from '@grpc-proxy/handler';
import {
  filterResponseMetadata,
  safely,
  type CompiledMetadataPolicy,
} from '@grpc-proxy/handler/engine';

/** How a call ended; its `StatusObject` is built only for whoever asks (observer, release). */
export class CallOutcome {
  code: status = status.OK;
  details = '';
  private metadata: Metadata | undefined = undefined;
  private trailers: IncomingHttpHeaders | undefined = undefined;
  private final: StatusObject | undefined = undefined;

  constructor(private readonly policy: CompiledMetadataPolicy) {}

  /** The call ended with this status (`trailers`: the backend's own, not yet filtered). */
  set(
    code: status,
    details: string,
    metadata: Metadata | undefined,
    trailers?: IncomingHttpHeaders,
  ): void {
    this.code = code;
    this.details = details;
    this.metadata = metadata;
    this.trailers = trailers;
  }

  /** The status the call ended with, built on first use. */
  status(): StatusObject {
    if (this.final === undefined) {
      const trailers = this.trailers;
      const metadata =
        this.metadata ??
        (trailers
          ? filterResponseMetadata(Metadata.fromHttp2Headers(trailers), this.policy)
          : new Metadata());
      this.final = { code: this.code, details: this.details, metadata };
    }
    return this.final;
  }
}

/** Gives `route` back to its director with `final` (once per route: the caller's duty). */
export function releaseRoute(route: Route, final: () => StatusObject): void {
  if (typeof route.release !== 'function') return;
  const outcome = final();
  safely('route.release', () => route.release?.(outcome));
}
