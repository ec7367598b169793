import type { IncomingHttpHeaders } from 'node:http2';
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import type { Route } from '@grpc-proxy/handler';
import {
  filterResponseMetadata,
  safely,
  type CompiledMetadataPolicy,
} from '@grpc-proxy/handler/engine';

/**
 * The `StatusObject` of an ended call. Its `metadata` (a grpc-js `Metadata` parsed from the
 * backend's trailers) is built only when read: the observer's report needs the code and the
 * message alone, so a call whose route has no `release` parses no trailers at all.
 */
class EndedStatus implements StatusObject {
  private built: Metadata | undefined = undefined;

  constructor(
    readonly code: status,
    readonly details: string,
    private readonly policy: CompiledMetadataPolicy,
    private readonly trailers: IncomingHttpHeaders | undefined,
  ) {}

  get metadata(): Metadata {
    this.built ??= this.trailers
      ? filterResponseMetadata(Metadata.fromHttp2Headers(this.trailers), this.policy)
      : new Metadata();
    return this.built;
  }

  set metadata(metadata: Metadata) {
    this.built = metadata;
  }
}

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

  /** The status the call ended with, built on first use (its trailer metadata on first read). */
  status(): StatusObject {
    if (this.final === undefined) {
      const final = new EndedStatus(this.code, this.details, this.policy, this.trailers);
      if (this.metadata !== undefined) final.metadata = this.metadata;
      this.final = final;
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
