/**
 * One backend call ("leg") of a fan-out call on the grpc-js engine (see ./fan-out-call.ts): opened
 * like any attempt (./backend-opening.ts: out of rotation, connect wait, the route's call options
 * and the call's deadline), but never retried: however it ends is its outcome.
 *
 * Flow control as in ./forwarding.ts: at most one client message in flight to the backend (or
 * one waiting for the call to open), and in `'stream'` mode the next backend message is asked for
 * (`startRead`) only while the client takes them.
 */
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { BackendOpening, failedOpening, type OpeningListener } from './backend-opening';
import type { FanOutMember, Route } from './contracts';
import type { FanOutLegEnd } from './fan-out-results';
import type { ServerStream } from './forwarding';
import { backendFailure } from './local-status';
import { filterResponseMetadata } from './metadata-policy';
import type { ResolvedHandlerOptions } from './options';
import {
  cancelRawCall,
  createBackendCall,
  type BackendChannel,
  type RawCall,
} from './route-backend';

/** What a leg needs of its fan-out call, and tells it. */
export interface FanOutLegOwner {
  /** The method called. */
  readonly method: string;
  /** The client's call: the legs' parent (deadline and cancellation propagate). */
  readonly parent: ServerStream;
  /** The request metadata for every leg (each leg sends its own copy). */
  readonly metadata: Metadata;
  /** False while a leg must not read its next message (the client is not taking them). */
  clientAccepts(): boolean;
  onLegHeaders(metadata: Metadata): void;
  onLegMessage(leg: FanOutLeg, message: Buffer): void;
  onLegEnded(leg: FanOutLeg, end: FanOutLegEnd<Metadata>): void;
  /** A leg took the client message in flight: the next one may be read. */
  onLegWritten(): void;
  /** The route is no backend at all (grpc-js refused its call options): ends the call. */
  onInvalidRoute(error: unknown): void;
  /** The call's own deadline passed while a leg waited for its connection: ends the call. */
  finish(final: StatusObject, proxyError: boolean): void;
}

/** One backend call of a fan-out; the grpc-js listener of its raw call. */
export class FanOutLeg implements OpeningListener {
  private readonly route: Route;
  private opening: BackendOpening | undefined = undefined;
  private call: RawCall | undefined = undefined;
  private notConnectedWithinMs: number | undefined = undefined;
  /** A client message given before the call opened. */
  private pending: Buffer | undefined = undefined;
  private inFlight = false;
  private halfClosePending = false;
  private sentHeaders = false;
  /** A message arrived while the client took no more: the next read waits for its `'drain'`. */
  private waitingForClient = false;
  /** Ended, or cancelled: nothing more is done. */
  private ended = false;
  private readonly writeContext = { callback: (): void => this.onWritten() };

  constructor(
    /** Its position in `fanOut.backends`. */
    readonly index: number,
    readonly name: string,
    member: FanOutMember,
    /** The fan-out route: its call options apply to every leg. */
    route: Route,
    private readonly owner: FanOutLegOwner,
    private readonly options: ResolvedHandlerOptions,
  ) {
    this.route = { backend: member, callOptions: route.callOptions };
  }

  /** Opens the leg's call (the outcome may be heard before this returns). */
  open(callDeadline: number): void {
    this.opening = new BackendOpening(this.route, callDeadline, this.options, this);
    this.opening.start();
  }

  /** True while the leg has not taken the last client message given to it. */
  get busy(): boolean {
    return !this.ended && (this.inFlight || this.pending !== undefined);
  }

  /** The next client message (by reference); only given when the leg is not {@link busy}. */
  send(message: Buffer): void {
    if (this.ended) return;
    const call = this.call;
    if (call === undefined) {
      this.pending = message;
      return;
    }
    this.inFlight = true;
    call.sendMessageWithContext(this.writeContext, message);
  }

  /** The client half-closed: at once (grpc-js queues it behind a message in flight). */
  halfClose(): void {
    if (this.ended) return;
    if (this.call === undefined) this.halfClosePending = true;
    else this.call.halfClose();
  }

  /** The client takes messages again: a leg held back reads its next one. */
  read(): void {
    if (!this.waitingForClient || this.ended) return;
    this.waitingForClient = false;
    this.call?.startRead();
  }

  /** The fan-out call ended with this leg still running: its backend call is cancelled. */
  cancel(details: string): void {
    if (this.ended) return;
    this.ended = true;
    this.opening?.cancel();
    if (this.call !== undefined) cancelRawCall(this.call, status.CANCELLED, details);
  }

  onOpenable(backend: BackendChannel, notConnectedWithinMs: number | undefined): void {
    if (this.ended) return;
    this.notConnectedWithinMs = notConnectedWithinMs;
    const owner = this.owner;
    try {
      const call = createBackendCall(backend.channel, this.route, owner.method, owner.parent);
      this.call = call;
      // grpc-js's filters add their own headers to the metadata a call is given.
      call.start(owner.metadata.clone(), this);
      call.startRead();
    } catch (error) {
      this.call = undefined;
      failedOpening(this, backend.name, error);
      return;
    }
    const pending = this.pending;
    this.pending = undefined;
    if (pending !== undefined) this.send(pending);
    if (this.halfClosePending) this.call.halfClose();
  }

  onNotSent(details: string): void {
    this.fail(status.UNAVAILABLE, details);
  }

  /** The leg could not be opened: its outcome, the proxy's status. */
  fail(code: status, details: string): void {
    if (this.ended) return;
    const message = `${this.options.proxyName}: ${details}`;
    this.end({ code, details: message, trailers: new Metadata(), proxyError: true });
  }

  finish(final: StatusObject, proxyError: boolean): void {
    this.owner.finish(final, proxyError);
  }

  onInvalidRoute(error: unknown): void {
    this.owner.onInvalidRoute(error);
  }

  /** grpc-js listener: the backend's response headers. */
  onReceiveMetadata(metadata: Metadata): void {
    this.sentHeaders = true;
    if (!this.ended) this.owner.onLegHeaders(metadata);
  }

  /** grpc-js listener: one message from the backend. */
  onReceiveMessage(message: Buffer): void {
    if (this.ended) return;
    const limit = this.options.maxSendMessageLength;
    if (message.length > limit) {
      // This backend alone failed (by the fan-out's onError), as on the http2 engine.
      this.fail(
        status.RESOURCE_EXHAUSTED,
        `message from backend ${this.name} is ${message.length} bytes, more than maxSendMessageLength (${limit})`,
      );
      cancelRawCall(this.call!, status.CANCELLED, 'message over maxSendMessageLength');
      return;
    }
    this.owner.onLegMessage(this, message);
    if (this.ended) return;
    if (this.owner.clientAccepts()) this.call!.startRead();
    else this.waitingForClient = true;
  }

  /** grpc-js listener: the leg's outcome (grpc-js's own statuses as the proxy's, as usual). */
  onReceiveStatus(backendStatus: StatusObject): void {
    if (this.ended) return;
    const trailers = backendStatus.metadata ?? new Metadata();
    const failure = backendFailure(
      backendStatus,
      this.sentHeaders,
      this.options.proxyName,
      this.name,
      this.notConnectedWithinMs,
    );
    if (failure !== undefined) {
      this.end({ code: failure.code, details: failure.details, trailers, proxyError: true });
      return;
    }
    filterResponseMetadata(trailers, this.options.policy);
    const { code, details } = backendStatus;
    this.end({ code, details, trailers, proxyError: false });
  }

  private end(end: FanOutLegEnd<Metadata>): void {
    this.ended = true;
    this.inFlight = false;
    this.pending = undefined;
    this.owner.onLegEnded(this, end);
  }

  private onWritten(): void {
    if (this.ended) return;
    this.inFlight = false;
    this.owner.onLegWritten();
  }
}
