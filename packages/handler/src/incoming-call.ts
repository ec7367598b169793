import type { Deadline, Metadata, StatusObject } from '@grpc/grpc-js';
import type { ProxyCall, Route } from './contracts';
import type { GuardedCall } from './guarded-call';
import type { HeldRequest } from './held-request';
import {
  filterIncomingMetadata,
  finishOutgoingMetadata,
  sanitizeRouteMetadata,
  type CompiledMetadataPolicy,
} from './metadata-policy';
import { FirstMessagePeek, lateFirstMessage, type PeekOwner } from './peek';
import type { ResolvedHandlerOptions } from './options';
import { ProxyCallBase } from './proxy-call-base';

/**
 * The `ProxyCall` a director sees (service name, signal and first message made on demand, see
 * the base).
 */
export class IncomingCall extends ProxyCallBase implements ProxyCall {
  readonly method: string;
  readonly metadata: Metadata;
  readonly peer: string;
  readonly authority: string;
  readonly deadline: Deadline;
  /** Once a director asked for the first message. */
  private peek: FirstMessagePeek | undefined = undefined;
  /** Once the forwarding reads the client's messages: those it sent (kept for a retry). */
  private sent: HeldRequest | undefined = undefined;
  /** Once the call ended. */
  private final: StatusObject | undefined = undefined;

  /** The call `guarded` carries, its metadata filtered by the `options` policy (in place). */
  constructor(
    private readonly guarded: GuardedCall,
    /** Its policy, and `maxReceiveMessageLength`, which the first message is checked against. */
    private readonly options: ResolvedHandlerOptions,
    /** Ends the call when the first message is over the limit. */
    private readonly owner: PeekOwner,
  ) {
    super();
    const stream = guarded.stream;
    this.method = stream.getPath();
    this.metadata = filterIncomingMetadata(stream.metadata, options.policy);
    this.peer = stream.getPeer();
    this.authority = stream.getHost();
    this.deadline = stream.getDeadline();
  }

  protected override peekFirstMessage(): Promise<Buffer | null> {
    if (this.final !== undefined || this.sent !== undefined) {
      return lateFirstMessage(this.guarded.stream, this.final, this.sent);
    }
    this.peek = new FirstMessagePeek(
      this.guarded,
      this.options.maxReceiveMessageLength,
      this.owner,
    );
    return this.peek.message;
  }

  /**
   * The forwarding starts reading the client's messages for an attempt, `request` holding those
   * it sent (see `FirstMessagePeek.beforeForwarding`).
   */
  beforeForwarding(request: HeldRequest): void {
    this.sent = request;
    this.peek?.beforeForwarding();
  }

  /** The call ended with `final`: a first message still awaited never comes. */
  ended(final: StatusObject): void {
    this.final = final;
    this.peek?.callEnded(final);
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
