import type { Deadline, Metadata, ServerDuplexStream } from '@grpc/grpc-js';
import type { ProxyCall } from './contracts';
import { filterIncomingMetadata, type CompiledMetadataPolicy } from './metadata-policy';
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
}
