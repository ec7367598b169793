/**
 * The forwarding phase of a call: DATA passed by reference both ways between the client's stream
 * and the backend's, with backpressure (a write that returns false pauses the other side until
 * `'drain'`), only the message prefixes scanned (limits, counts), response headers forwarded the
 * moment they arrive, and the backend's trailers (or its trailers-only answer) passed untouched.
 *
 * The listeners are shared by every call (./stream-events.ts); nothing is allocated per chunk or
 * per message.
 */
import {
  constants,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { status } from '@grpc/grpc-js';
import { PrefixScanner, ScanResult, type MessageCounter } from '@grpc-proxy/codec';
import type { CallRecorder } from '@grpc-proxy/handler/engine';
import { dropHopByHop, isGrpcContentType } from './headers';
import type { BackendRequest } from './backend-request';
import { cancelBackendStream, type BackendResetLimits } from './backend-resets';
import type { Mirrors } from './mirror';
import type { FirstMessagePeek } from './peek';
import { Replay } from './replay';
import { scanFailure } from './scan-failure';
import { closedStreamOutcome, httpFailureOutcome } from './stream-outcome';
import {
  listenToBackend,
  listenToBackendData,
  listenToBackendDrain,
  listenToClient,
  listenToClientDrain,
  pass,
  type StreamEvents,
} from './stream-events';

/** How the forwarding ends the call it belongs to. */
export interface ForwardingOwner {
  /** Ends the call with a failure of the proxy itself (the message gets the proxy's prefix). */
  fail(code: status, details: string): void;
  /**
   * The backend did not process the request (refused stream, stream beyond a GOAWAY, session
   * that never connected) and nothing was answered: an `UNAVAILABLE` attempt, which the owner
   * retries ({@link Forwarding.resumeOn}) or ends the call with (the message gets the proxy's
   * prefix). The client's stream is paused meanwhile.
   */
  unprocessed(details: string, error: unknown): void;
  /** Ends the call with the backend's own status: its trailers, or its trailers-only answer. */
  finishWithBackend(trailers: IncomingHttpHeaders, trailersOnly: boolean): void;
}

/** Size limits of the two legs, in bytes (`Infinity`: none), and the backend's cancellation budget. */
export interface LegLimits extends BackendResetLimits {
  readonly maxReceiveMessageLength: number;
  readonly maxSendMessageLength: number;
}

/** Counts the client's messages for the observer (a fan-out's too, ./fan-out-call.ts). */
export class ToBackendCounter implements MessageCounter {
  constructor(private readonly recorder: CallRecorder) {}
  count(bytes: number): void {
    this.recorder.fromClient(bytes);
  }
}

class ToClientCounter implements MessageCounter {
  constructor(private readonly recorder: CallRecorder) {}
  count(bytes: number): void {
    this.recorder.toClient(bytes);
  }
}

/**
 * Pumps one call's bytes both ways; listens to both streams (through ./stream-events.ts: the
 * event methods below are public for those shared listeners only).
 */
export class Forwarding implements StreamEvents {
  private readonly fromClient: PrefixScanner;
  private readonly toClient: PrefixScanner;
  /** The backend's `:status` when it is not a gRPC answer (its body is then dropped). */
  private httpFailure = 0;
  private trailers: IncomingHttpHeaders | undefined = undefined;
  private lastBackendError: Error | undefined = undefined;
  private stopped = false;
  /** The request so far, while the backend has not answered and it is small enough to resend. */
  private replay: Replay | undefined = new Replay();
  /** The backend's response headers arrived: whatever happens next, it processed the request. */
  private answered = false;
  /** Between a failed attempt and the next: the request is only kept. */
  private waiting = false;
  /**
   * Whether 'drain' is listened to on each side: only once a write returned false, since most
   * calls never fill a buffer (a listener less per side and call).
   */
  private clientDrainHeard = false;
  private backendDrainHeard = false;
  /** The call's mirrored copies (./mirror.ts), fed every client chunk; none for most calls. */
  mirrors: Mirrors | undefined = undefined;

  constructor(
    private readonly client: ServerHttp2Stream,
    private backend: ClientHttp2Stream,
    private request: BackendRequest,
    private readonly owner: ForwardingOwner,
    private readonly limits: LegLimits,
    recorder: CallRecorder | undefined,
    private backendName: string,
  ) {
    this.fromClient = new PrefixScanner(
      limits.maxReceiveMessageLength,
      recorder && new ToBackendCounter(recorder),
    );
    this.toClient = new PrefixScanner(
      limits.maxSendMessageLength,
      recorder && new ToClientCounter(recorder),
    );
  }

  /**
   * Starts listening to both streams; after a `peek` (./peek.ts), the chunks it read go first and
   * its listeners become this forwarding's.
   */
  begin(peek: FirstMessagePeek | undefined): void {
    listenToBackend(this.backend, this);
    if (peek === undefined) listenToClient(this.client, this);
    else peek.handOver(this);
    // Node emits 'end' on its own when a half-close carries no data: it may be gone already
    // (calls start a turn after their HEADERS; the director or the connection may take longer).
    if (this.client.readableEnded) this.clientEnd();
  }

  /** Whether the whole request so far is still kept and nothing was answered: it can be resent. */
  get holdsRequest(): boolean {
    return this.replay !== undefined && !this.answered;
  }

  /**
   * Goes on with the backend stream of a new attempt (another route's, after
   * {@link ForwardingOwner.unprocessed}): sends it the request kept so far, then reads the
   * client again.
   */
  resumeOn(backend: ClientHttp2Stream, request: BackendRequest, backendName: string): void {
    this.backend = backend;
    this.request = request;
    this.backendName = backendName;
    this.lastBackendError = undefined;
    this.waiting = false;
    this.backendDrainHeard = false;
    listenToBackend(backend, this);
    this.replay?.writeTo(backend);
    this.client.resume();
  }

  /**
   * The call ended: nothing more is forwarded; with `cancel`, the backend stream is reset
   * (CANCEL), else (the backend ended the call) our side of it is half-closed if it was not.
   */
  stop(cancel: boolean): void {
    this.stopped = true;
    this.mirrors?.callEnded(cancel);
    if (cancel) {
      cancelBackendStream(this.backend, this.limits);
    } else if (!this.backend.writableEnded) {
      // The client has not half-closed: without this the stream would stay open on the
      // backend's connection (a graceful shutdown waits on it). A half-close, as grpc-js clients
      // do, rather than a reset, which would count against the backend's reset limit.
      this.backend.end();
    }
  }

  clientData(chunk: Buffer): void {
    if (this.stopped) return;
    const result = this.fromClient.scan(chunk);
    if (result !== ScanResult.OK) {
      this.failScan(result, this.fromClient, 'client', 'maxReceiveMessageLength');
      return;
    }
    if (this.replay !== undefined && !this.replay.record(chunk)) this.replay = undefined;
    this.mirrors?.write(chunk);
    if (this.waiting) return; // kept for the next attempt (the stream is paused)
    const { backend, client, backendDrainHeard } = this;
    this.backendDrainHeard = pass(chunk, backend, client, backendDrainHeard, listenToBackendDrain);
  }

  backendDrain(): void {
    if (!this.stopped) this.client.resume();
  }

  clientEnd(): void {
    if (this.stopped) return;
    if (this.fromClient.midMessage) {
      this.owner.fail(status.INTERNAL, 'the client ended its stream inside a message');
      return;
    }
    this.replay?.end();
    this.mirrors?.end();
    if (!this.waiting) this.backend.end();
  }

  backendResponse(headers: IncomingHttpHeaders, flags: number): void {
    if (this.stopped) return;
    this.answered = true; // processed: never sent again
    this.replay = undefined;
    const httpStatus = Number(headers[':status']);
    if (httpStatus !== 200 || !isGrpcContentType(headers['content-type'])) {
      // Not a gRPC answer: held back and mapped to a status once the backend is done.
      this.httpFailure = httpStatus;
      listenToBackendData(this.backend);
      return;
    }
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      this.owner.finishWithBackend(dropHopByHop(headers), true);
      return;
    }
    this.client.respond(dropHopByHop(headers), { waitForTrailers: true });
    listenToBackendData(this.backend);
  }

  backendTrailers(trailers: IncomingHttpHeaders): void {
    this.trailers = trailers;
  }

  backendData(chunk: Buffer): void {
    if (this.stopped || this.httpFailure !== 0) return;
    const result = this.toClient.scan(chunk);
    if (result !== ScanResult.OK) {
      this.failScan(result, this.toClient, `backend ${this.backendName}`, 'maxSendMessageLength');
      return;
    }
    const { backend, client, clientDrainHeard } = this;
    this.clientDrainHeard = pass(chunk, client, backend, clientDrainHeard, listenToClientDrain);
  }

  clientDrain(): void {
    if (!this.stopped) this.backend.resume();
  }

  /** Every DATA frame of the backend is read: its trailers (if any) came before this. */
  backendEnd(): void {
    if (this.stopped) return;
    if (this.httpFailure !== 0) {
      this.failHttp();
    } else if (this.trailers === undefined) {
      // Reset (Node ends the readable side first), or ended on a DATA frame: 'close' says which.
      return;
    } else if (this.toClient.midMessage) {
      this.owner.fail(
        status.INTERNAL,
        `backend ${this.backendName} failed: its last message was truncated`,
      );
    } else {
      this.owner.finishWithBackend(this.trailers, false);
    }
  }

  /** Closed without its end: reset by the backend, or its connection failed. */
  backendClose(): void {
    if (this.stopped) return;
    if (this.httpFailure !== 0) {
      this.failHttp();
      return;
    }
    const outcome = closedStreamOutcome(
      this.backend,
      this.lastBackendError,
      this.request,
      this.answered,
      this.backendName,
    );
    if (outcome.unprocessed) this.leave(outcome.details, this.lastBackendError);
    else this.owner.fail(outcome.code, outcome.details);
  }

  backendError(error: Error): void {
    this.lastBackendError ??= error;
  }

  /**
   * The attempt was not processed: its stream is closed (it emits nothing more), the client
   * waits (paused, what it sends kept) and the owner retries or fails.
   */
  private leave(details: string, error: Error | undefined): void {
    this.waiting = true;
    this.client.pause();
    this.owner.unprocessed(details, error);
  }

  private failHttp(): void {
    const outcome = httpFailureOutcome(this.httpFailure, this.backendName);
    this.owner.fail(outcome.code, outcome.details);
  }

  private failScan(result: ScanResult, scanner: PrefixScanner, from: string, option: string): void {
    const failure = scanFailure(result, scanner, from, option);
    this.owner.fail(failure.code, failure.details);
  }
}
