/**
 * The forwarding phase of a proxied call: the server side (a grpc-js `ServerDuplexStream` of raw
 * buffers) pumped to and from a raw backend call made on a channel (`Channel.createCall`, the
 * layer under `Client`).
 *
 * Flow control is explicit and bounded on both legs:
 * - client → backend: at most one message in flight to the backend (grpc-js's call layers hold a
 *   single pending write until the stream exists); the next one is read from the server stream
 *   only when the previous write completed. The server stream's readable buffer (16 messages) is
 *   the only queue on this leg. The client's half-close follows at once, even behind a message
 *   still in flight.
 * - backend → client: the next backend message is requested (`startRead`) only while the server
 *   stream's writable side accepts more (`write()` returned true, or after `'drain'`).
 *
 * All callbacks are created once per call; nothing is allocated per message.
 */
import { Metadata, status, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import type { CallRecorder } from './call-recorder';
import { isLocalStatus } from './local-status';
import { filterResponseMetadata } from './metadata-policy';
import type { ResolvedHandlerOptions } from './options';
import type { RawCall } from './route-backend';
/** The server side of a proxied call. */
export type ServerStream = ServerDuplexStream<Buffer, Buffer>;

/** How the forwarding ends the call it belongs to. */
export interface ForwardingOwner {
  /** Ends the call with a failure of the proxy itself, whose message names the proxy. */
  fail(code: status, details: string): void;
  /** Ends the call with `final`, sent once the messages already queued are written. */
  finish(final: StatusObject, proxyError: boolean): void;
}

/** Pumps messages both ways between the client and the backend call; the latter's listener. */
export class Forwarding {
  private messageToBackendInFlight = false;
  private waitingForClientDrain = false;
  private backendSentHeaders = false;
  private stopped = false;
  private readonly writeContext = { callback: (): void => this.onMessageToBackendWritten() };

  constructor(
    private readonly call: RawCall,
    private readonly stream: ServerStream,
    private readonly owner: ForwardingOwner,
    private readonly options: ResolvedHandlerOptions,
    private readonly recorder: CallRecorder | undefined,
    private readonly backendName: string,
    /** How long the call waited in vain for the backend channel to connect, if it did (ms). */
    private readonly notConnectedWithinMs: number | undefined,
  ) {}

  /** Starts pumping both ways; call once the backend call is started. */
  begin(): void {
    this.call.startRead();
    const stream = this.stream;
    stream.on('readable', this.pumpToBackend);
    stream.on('end', this.onClientHalfClose);
    stream.on('drain', this.onClientDrained);
    this.pumpToBackend();
  }

  /** The call ended: nothing more is forwarded; with `cancelMessage`, the backend call is cancelled. */
  stop(cancelMessage: string | undefined): void {
    this.stopped = true;
    if (cancelMessage !== undefined) this.call.cancelWithStatus(status.CANCELLED, cancelMessage);
  }

  /** grpc-js listener: response headers from the backend. */
  onReceiveMetadata(metadata: Metadata): void {
    this.backendSentHeaders = true;
    if (this.stopped) return;
    this.stream.sendMetadata(filterResponseMetadata(metadata, this.options.policy));
  }

  /** grpc-js listener: one message from the backend. */
  onReceiveMessage(message: Buffer): void {
    if (this.stopped) return;
    const limit = this.options.maxSendMessageLength;
    if (message.length > limit) {
      this.owner.fail(
        status.RESOURCE_EXHAUSTED,
        `message from backend ${this.backendName} is ${message.length} bytes, more than maxSendMessageLength (${limit})`,
      );
      return;
    }
    this.recorder?.toClient(message.length);
    if (this.stream.write(message)) {
      this.call.startRead();
    } else {
      this.waitingForClientDrain = true;
    }
  }

  /** grpc-js listener: the backend call ended. */
  onReceiveStatus(backendStatus: StatusObject): void {
    if (this.stopped) return;
    const metadata = backendStatus.metadata ?? new Metadata();
    // A status grpc-js made up (connection refused or dropped, stream reset, no trailers, ...) is
    // the proxy's own failure, and says so; the backend's own statuses pass unchanged.
    if (isLocalStatus(backendStatus, this.backendSentHeaders)) {
      const reason = backendStatus.code === status.UNAVAILABLE ? 'unavailable' : 'failed';
      const waited =
        this.notConnectedWithinMs === undefined
          ? ''
          : `not connected within ${this.notConnectedWithinMs} ms: `;
      const details = `${this.options.proxyName}: backend ${this.backendName} ${reason}: ${waited}${backendStatus.details}`;
      this.owner.finish({ code: backendStatus.code, details, metadata }, true);
      return;
    }
    filterResponseMetadata(metadata, this.options.policy);
    this.owner.finish(
      { code: backendStatus.code, details: backendStatus.details, metadata },
      false,
    );
  }

  private readonly pumpToBackend = (): void => {
    if (this.stopped) return;
    const stream = this.stream;
    if (this.messageToBackendInFlight) {
      // No message may be taken now, but a client half-close already queued behind the one in
      // flight is noticed ('end'), so that it follows that message at once (for a unary call,
      // in the same flush) instead of a turn of the event loop later.
      if (stream.readableLength === 0) stream.read(0);
      return;
    }
    const message = stream.read() as Buffer | null;
    if (message === null) return;
    const limit = this.options.maxReceiveMessageLength;
    if (message.length > limit) {
      this.owner.fail(
        status.RESOURCE_EXHAUSTED,
        `message from client is ${message.length} bytes, more than maxReceiveMessageLength (${limit})`,
      );
      return;
    }
    this.recorder?.fromClient(message.length);
    this.messageToBackendInFlight = true;
    this.call.sendMessageWithContext(this.writeContext, message);
  };

  private onMessageToBackendWritten(): void {
    this.messageToBackendInFlight = false;
    this.pumpToBackend();
  }

  /**
   * Passed on at once, even with a message in flight: every grpc-js call layer queues the
   * half-close behind a pending message (grpc-js's own unary client does the same).
   */
  private readonly onClientHalfClose = (): void => {
    if (this.stopped) return;
    this.call.halfClose();
  };

  private readonly onClientDrained = (): void => {
    if (!this.waitingForClientDrain || this.stopped) return;
    this.waitingForClientDrain = false;
    this.call.startRead();
  };
}
