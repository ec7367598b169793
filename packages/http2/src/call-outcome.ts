import type { IncomingHttpHeaders } from 'node:http2';
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import type { Route } from '@grpc-proxy/handler';
import {
  filterResponseMetadata,
  safely,
  type CompiledMetadataPolicy,
} from '@grpc-proxy/handler/engine';

/** How a call ended; its `StatusObject` is built only for a route's `release`. */
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

  /**
   * The status the call ended with, for `route.release`, built on first use. Its `metadata` (a
   * grpc-js `Metadata` parsed from the backend's trailers) is an own property like the others,
   * but parsed only when read: most releases look at the code alone. (The observer's report
   * needs no `StatusObject`: the code and message are fields of the outcome.)
   */
  status(): StatusObject {
    if (this.final === undefined) {
      const { policy, trailers } = this;
      let metadata = this.metadata;
      this.final = {
        code: this.code,
        details: this.details,
        get metadata(): Metadata {
          metadata ??= trailers
            ? filterResponseMetadata(Metadata.fromHttp2Headers(trailers), policy)
            : new Metadata();
          return metadata;
        },
        set metadata(value: Metadata) {
          metadata = value;
        },
      };
    }
    return this.final;
  }
}

/** Whatever gives the status a route is released with (a call's outcome, an attempt's). */
export interface StatusSource {
  status(): StatusObject;
}

/**
 * Gives `route` back to its director with the status of `final`, made only when the route has a
 * `release` (once per route: the caller's duty).
 */
export function releaseRoute(route: Route, final: StatusSource): void {
  if (typeof route.release !== 'function') return;
  const outcome = final.status();
  try {
    route.release(outcome);
  } catch (error) {
    // Warned as `safely` warns; its closure is made on this path only, not per call.
    safely('route.release', () => {
      throw error;
    });
  }
}
