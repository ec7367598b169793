import type { Deadline, Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import type { ProxyCall, Route } from './contracts';
import {
  filterIncomingMetadata,
  finishOutgoingMetadata,
  sanitizeRouteMetadata,
  type CompiledMetadataPolicy,
} from './metadata-policy';
import { ProxyCallBase } from './proxy-call-base';

/** The `ProxyCall` a director sees (service name and signal made on demand, see the base). */
export class IncomingCall extends ProxyCallBase implements ProxyCall {
  constructor(
    readonly method: string,
    readonly metadata: Metadata,
    readonly peer: string,
    readonly authority: string,
    readonly deadline: Deadline,
  ) {
    super();
  }

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

  /** What an attempt on `route` sends the backend as request metadata. */
  outgoingMetadata(route: Route, policy: CompiledMetadataPolicy): Metadata {
    if (route.metadata) return sanitizeRouteMetadata(route.metadata);
    // A retry asks the director again with the same metadata: the keys the strip list removes
    // (routing keys) must still be there, and `x-forwarded-for` must not grow twice.
    const rewrites = policy.forwardedFor || policy.outgoingDrop.length > policy.incomingDrop.length;
    return finishOutgoingMetadata(rewrites ? this.metadata.clone() : this.metadata, policy, this);
  }
}
