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
 * A call may make several attempts (transparent retries, see ./transparent-retry.ts): the
 * messages sent are held until the backend's response headers ({@link HeldRequest}), and an
 * attempt the backend did not process hands its status to the owner, which may attach a new
 * backend call: the held messages (and the half-close) are replayed on it, one at a time, before
 * the client's next ones.
 *
 * All callbacks are created once per call (the write context once per attempt); nothing is
 * allocated per message.
 */
import { Metadata, status, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import type { CallMirror } from './call-mirror';
import type { CallRecorder } from './call-recorder';
import type { GuardedCall } from './guarded-call';
import { HeldRequest } from './held-request';
import { backendFailure } from './local-status';
import { filterResponseMetadata } from './metadata-policy';
import { clientMessageTooLarge } from './peek';
import type { ResolvedHandlerOptions } from './options';
import { cancelRawCall, type RawCall } from './route-backend';

/** The server side of a proxied call. */
export type ServerStream = ServerDuplexStream<Buffer, Buffer>;

/** How the forwarding ends the call it belongs to. */
export interface ForwardingOwner {
  /** Ends the call with a failure of the proxy itself, whose message names the proxy. */
  fail(code: status, details: string): void;
  /** Ends the call with `final`, sent once the messages already queued are written. */
  finish(final: StatusObject, proxyError: boolean): void;
  /**
   * The backend did not process the attempt (refused stream, no connection, ...): `final` is the
   * attempt's `UNAVAILABLE` status naming the proxy and the backend. The owner retries it on a
   * new backend call ({@link Forwarding.attach}) or ends the call with `final`.
   */
  unprocessed(final: StatusObject, unreachable?: boolean): void;
}

/** Pumps messages both ways between the client and the backend call; the latter's listener. */
export class Forwarding {
  /** The client's messages sent so far, for a transparent retry. */
  readonly request = new HeldRequest();
  /** The current attempt's backend call; undefined between attempts. */
  private call: RawCall | undefined = undefined;
  /** The current attempt's mirrors (`Route.mirror`, see ./call-mirror.ts), if it has any. */
  private mirror: CallMirror | undefined = undefined;
  private backendName = '';
  /** How long the attempt waited in vain for the backend channel to connect, if it did (ms). */
  private notConnectedWithinMs: number | undefined = undefined;
  private writeContext = { callback: (): void => undefined };
  /** Held messages still to send again on this attempt, from `replayIndex` on. */
  private replay: Buffer[] | undefined = undefined;
  private replayIndex = 0;
  private messageToBackendInFlight = false;
  private waitingForClientDrain = false;
  private backendSentHeaders = false;
  private clientHalfClosed = false;
  private listening = false;
  private stopped = false;

  constructor(
    private readonly stream: ServerStream,
    private readonly owner: ForwardingOwner,
    private readonly options: ResolvedHandlerOptions,
    private readonly recorder: CallRecorder | undefined,
    /** Writes to the client through its connection's guard, which counts the bytes unsent. */
    private readonly guarded: GuardedCall,
  ) {}

  /**
   * Makes `call` (to start with this object as its listener, then {@link begin}) the current
   * attempt. After a failed attempt, the held request is sent again on it.
   */
  attach(
    call: RawCall,
    backendName: string,
    notConnectedWithinMs: number | undefined,
    mirror?: CallMirror,
  ): void {
    this.call = call;
    this.mirror = mirror;
    this.backendName = backendName;
    this.notConnectedWithinMs = notConnectedWithinMs;
    this.backendSentHeaders = false;
    this.messageToBackendInFlight = false;
    // A write of a failed attempt that completes late must not release this attempt's pump.
    const context = {
      callback: (): void => {
        if (this.writeContext === context) this.onMessageToBackendWritten();
      },
    };
    this.writeContext = context;
    const held = this.request.messages;
    if (mirror !== undefined) for (const message of held) mirror.message(message, false);
    this.replay = held.length > 0 ? held : undefined;
    this.replayIndex = 0;
  }

  /** Starts pumping both ways; call once the attached backend call is started. */
  begin(): void {
    const call = this.call!;
    call.startRead();
    const stream = this.stream;
    if (!this.listening) {
      this.listening = true;
      stream.on('readable', this.pumpToBackend);
      stream.on('end', this.onClientHalfClose);
      stream.on('drain', this.onClientDrained);
      // A peek (./peek.ts) may have seen the client's half-close already.
      this.clientHalfClosed = stream.readableEnded;
    }
    if (this.clientHalfClosed) this.mirror?.halfClose();
    if (this.replay === undefined && this.clientHalfClosed) {
      call.halfClose();
    }
    this.pumpToBackend();
  }

  /** The call ended: nothing more is forwarded; with `cancelMessage`, the backend call is cancelled. */
  stop(cancelMessage: string | undefined): void {
    this.stopped = true;
    this.mirror?.callEnded(cancelMessage);
    const call = this.call;
    if (cancelMessage !== undefined && call !== undefined) {
      cancelRawCall(call, status.CANCELLED, cancelMessage);
    }
  }

  /** grpc-js listener: response headers from the backend. */
  onReceiveMetadata(metadata: Metadata): void {
    this.backendSentHeaders = true;
    this.mirror?.final();
    // The backend answered: the request may have reached the application.
    this.request.drop();
    if (this.stopped) return;
    // The client has an answer: leaving now is no reset.
    this.guarded.answered = true;
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
    if (this.guarded.write(message)) {
      this.call!.startRead();
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
    const failure = backendFailure(
      backendStatus,
      this.backendSentHeaders,
      this.options.proxyName,
      this.backendName,
      this.notConnectedWithinMs,
    );
    if (failure !== undefined) {
      const { code, details, unprocessed } = failure;
      if (!unprocessed) {
        this.owner.finish({ code, details, metadata }, true);
        return;
      }
      // Between attempts: the client's messages stay unread until the next one is attached.
      this.call = undefined;
      const mirror = this.mirror;
      // After a connect wait that ran out, the backend is not tried again in this call.
      this.owner.unprocessed({ code, details, metadata }, this.notConnectedWithinMs !== undefined);
      // Left for a retry: that attempt's mirrors get no copy.
      if (!this.stopped && this.mirror === mirror) this.mirror = undefined;
      return;
    }
    filterResponseMetadata(metadata, this.options.policy);
    this.owner.finish(
      { code: backendStatus.code, details: backendStatus.details, metadata },
      false,
    );
  }

  private readonly pumpToBackend = (): void => {
    const call = this.call;
    if (this.stopped || call === undefined) return;
    const stream = this.stream;
    if (this.messageToBackendInFlight) {
      // No message may be taken now, but a client half-close already queued behind the one in
      // flight is noticed ('end'), so that it follows that message at once (for a unary call,
      // in the same flush) instead of a turn of the event loop later.
      if (stream.readableLength === 0) stream.read(0);
      return;
    }
    const replay = this.replay;
    if (replay !== undefined) {
      this.replayNext(call, replay);
      return;
    }
    const message = stream.read() as Buffer | null;
    if (message === null) return;
    const limit = this.options.maxReceiveMessageLength;
    if (message.length > limit) {
      this.owner.fail(status.RESOURCE_EXHAUSTED, clientMessageTooLarge(message.length, limit));
      return;
    }
    this.recorder?.fromClient(message.length);
    this.request.add(message);
    this.mirror?.message(message, !this.request.held);
    this.messageToBackendInFlight = true;
    call.sendMessageWithContext(this.writeContext, message);
  };

  /** Sends the next held message again; the client's half-close follows the last one. */
  private replayNext(call: RawCall, replay: Buffer[]): void {
    const message = replay[this.replayIndex++];
    if (this.replayIndex === replay.length) this.replay = undefined;
    this.messageToBackendInFlight = true;
    call.sendMessageWithContext(this.writeContext, message);
    if (this.replay === undefined && this.clientHalfClosed) call.halfClose();
  }

  private onMessageToBackendWritten(): void {
    this.messageToBackendInFlight = false;
    this.pumpToBackend();
  }

  /**
   * Passed on at once, even with a message in flight: every grpc-js call layer queues the
   * half-close behind a pending message (grpc-js's own unary client does the same). Between
   * attempts, or while held messages are sent again, it waits for them.
   */
  private readonly onClientHalfClose = (): void => {
    this.clientHalfClosed = true;
    this.mirror?.halfClose();
    if (this.stopped || this.call === undefined || this.replay !== undefined) return;
    this.call.halfClose();
  };

  private readonly onClientDrained = (): void => {
    if (!this.waitingForClientDrain || this.stopped) return;
    this.waitingForClientDrain = false;
    this.call?.startRead();
  };
}
