/**
 * Peek for the grpc-js engine (`ProxyCall.firstMessage`): the first request message read from
 * the server stream for a director, then put back at the front of the stream (`unshift`), so that
 * the forwarding (./forwarding.ts) reads it first like any other message: it is checked against
 * the limit, counted, held for a transparent retry (rule 12) and sent before the rest.
 *
 * Made only when a director asks: until then nobody reads the stream (grpc-js asks its http2
 * stream for data only once the server stream is read), so a call without peek pays nothing.
 */
import { status, type StatusObject } from '@grpc/grpc-js';
import type { ServerStream } from './forwarding';
import type { GuardedCall } from './guarded-call';
import type { HeldRequest } from './held-request';
import { ProxyStatusError } from './status-error';

/** How a peek ends the call it belongs to (the proxied call, ./proxied-call.ts). */
export interface PeekOwner {
  /** Ends the call with a failure of the proxy itself, whose message names the proxy. */
  fail(code: status, details: string): void;
}

/** What a client message over `maxReceiveMessageLength` ends its call with (after the proxy name). */
export function clientMessageTooLarge(length: number, limit: number): string {
  return `message from client is ${length} bytes, more than maxReceiveMessageLength (${limit})`;
}

/** One call's first-message read: settles once, with the message, `null`, or the call's end. */
export class FirstMessagePeek {
  readonly message: Promise<Buffer | null>;
  private resolve!: (message: Buffer | null) => void;
  private reject!: (error: ProxyStatusError) => void;
  private pending = true;

  private readonly stream: ServerStream;

  constructor(
    /** The call as its connection's guard sees it: its stream, and whether its client left. */
    private readonly guarded: GuardedCall,
    private readonly limit: number,
    private readonly owner: PeekOwner,
  ) {
    const stream = (this.stream = guarded.stream);
    this.message = new Promise<Buffer | null>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // The director may never await it: a rejection nobody handles is no process warning.
    this.message.catch(() => undefined);
    stream.on('readable', this.onReadable);
    stream.on('end', this.onEnd);
  }

  /**
   * The forwarding is about to read the stream: a message already buffered is taken here first,
   * so that a director that asked without awaiting still gets the first message. A peek still
   * pending after that keeps its listeners, registered before the forwarding's: it reads first.
   */
  beforeForwarding(): void {
    if (this.pending) this.onReadable();
  }

  /** The call ended with `final` before the first message came: the director hears why. */
  callEnded(final: StatusObject): void {
    if (!this.settle()) return;
    this.reject(new ProxyStatusError(final.code, final.details, final.metadata));
  }

  private readonly onReadable = (): void => {
    if (!this.pending) return;
    const message = this.stream.read() as Buffer | null;
    // Nothing yet; a half-close comes as 'end'.
    if (message === null) return;
    if (message.length > this.limit) {
      // A server whose own limit is larger (registerService); the call's end rejects the peek.
      this.owner.fail(status.RESOURCE_EXHAUSTED, clientMessageTooLarge(message.length, this.limit));
      return;
    }
    this.settle();
    // Same turn as the read: the stream has not emitted 'end' yet, even when the client's
    // half-close is already buffered behind the message (it follows once the message is read again).
    this.stream.unshift(message);
    this.resolve(message);
  };

  private readonly onEnd = (): void => {
    // A reset stream ends too (Node pushes its end before it tells of the reset): only an http2
    // stream closed by the client (END_STREAM) is a half-close. On a reset, the call's end
    // (grpc-js's 'cancelled', a moment later) rejects the peek.
    if (this.guarded.gone || this.guarded.http2Stream?.state.remoteClose === 0) return;
    // The forwarding sees the half-close as the stream's `readableEnded`.
    if (this.settle()) this.resolve(null);
  };

  private settle(): boolean {
    if (!this.pending) return false;
    this.pending = false;
    this.stream.removeListener('readable', this.onReadable);
    this.stream.removeListener('end', this.onEnd);
    return true;
  }
}

/**
 * The first message for a director that asks only once the call ended (`final`) or its
 * forwarding started (`sent`, the messages it sent): what is still known of it, never a read
 * that would take a later message. A director asked again for a transparent retry gets it from
 * the held request.
 */
export function lateFirstMessage(
  stream: ServerStream,
  final: StatusObject | undefined,
  sent: HeldRequest | undefined,
): Promise<Buffer | null> {
  const first = sent?.messages[0];
  if (first !== undefined) return Promise.resolve(first);
  if (final !== undefined && final.code !== status.OK) {
    return quietRejection(new ProxyStatusError(final.code, final.details, final.metadata));
  }
  if (final === undefined && stream.readableEnded && sent?.held === true) {
    return Promise.resolve(null);
  }
  return quietRejection(
    new ProxyStatusError(
      status.FAILED_PRECONDITION,
      'grpc-proxy: firstMessage() was called after the call was forwarded; call it before returning the route',
    ),
  );
}

/** Rejected with `error`; a director that never awaits it gets no unhandled-rejection crash. */
function quietRejection(error: ProxyStatusError): Promise<never> {
  const rejection = Promise.reject(error);
  rejection.catch(() => undefined);
  return rejection;
}
