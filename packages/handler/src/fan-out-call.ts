/**
 * Fan-out on the grpc-js engine (`Route.backend` a `FanOutBackend`, see ./contracts.ts): one
 * backend call per member (./fan-out-leg.ts), all opened at once, and their answers made into
 * the client's by the engine-neutral `FanOutResults` (./fan-out-results.ts), whose sink this is.
 *
 * Flow control, bounded as in ./forwarding.ts:
 * - client → backends: a client message is read only when every running leg took the previous
 *   one (backpressure follows the slowest backend); each leg gets it by reference, and the
 *   client's half-close at once.
 * - backends → client (`'stream'`): a leg asks for its next message only while the client's
 *   writable side accepts (all legs wait for its `'drain'`); so at most one message per leg
 *   goes past a full client buffer. `'merge'`: legs read freely, what they send is held (bounded
 *   by `maxSendMessageLength`, see `FanOutResults`).
 *
 * Never retried transparently: a leg its backend did not process is a failure like any other.
 */
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { CallMirror } from './call-mirror';
import type { CallRecorder } from './call-recorder';
import type { FanOutBackend, Route } from './contracts';
import { checkFanOut } from './fan-out';
import { FanOutLeg, type FanOutLegOwner } from './fan-out-leg';
import { FanOutResults, type FanOutLegEnd, type FanOutSink } from './fan-out-results';
import type { ServerStream } from './forwarding';
import type { GuardedCall } from './guarded-call';
import { HeldRequest } from './held-request';
import type { IncomingCall } from './incoming-call';
import { filterResponseMetadata } from './metadata-policy';
import type { ResolvedHandlerOptions } from './options';
import { clientMessageTooLarge } from './peek';
import { routeBackendName } from './route-backend';

/** A route whose backend is a fan-out. */
export type FanOutRoute = Route & { readonly backend: FanOutBackend };

/** How a fan-out ends the call it belongs to (the proxied call, ./proxied-call.ts). */
export interface FanOutOwner {
  /** Ends the call with a failure of the proxy itself, whose message names the proxy. */
  fail(code: status, details: string, error?: unknown): void;
  /** Ends the call with `final`, sent once the messages already queued are written. */
  finish(final: StatusObject, proxyError: boolean): void;
  /** The route is invalid: ends the call `INTERNAL`. */
  onInvalidRoute(error: unknown): void;
  /** `onError` or `merge` threw a status error: the call ends as a director error would. */
  onDirectorError(error: unknown): void;
}

/** The fan-out of one call: its legs, the client's side of them, and their results. */
export class FanOutCall implements FanOutSink<Metadata>, FanOutLegOwner {
  readonly method: string;
  /** Set by {@link start}. */
  metadata!: Metadata;
  private legs: FanOutLeg[] = [];
  private results: FanOutResults<Metadata> | undefined = undefined;
  private mirror: CallMirror | undefined = undefined;
  /** The client's messages sent, for a late `firstMessage()` (see ./peek.ts). */
  private readonly request: HeldRequest;
  /** Messages a failed attempt sent before the director gave this route, from `replayIndex`. */
  private replay: Buffer[] | undefined;
  private replayIndex = 0;
  private streaming = true;
  private clientFull = false;
  private headersSent = false;
  private clientHalfClosed = false;
  private stopped = false;

  constructor(
    readonly parent: ServerStream,
    private readonly owner: FanOutOwner,
    private readonly options: ResolvedHandlerOptions,
    private readonly recorder: CallRecorder | undefined,
    /** Writes to the client through its connection's guard, which counts the bytes unsent. */
    private readonly guarded: GuardedCall,
    private readonly incoming: IncomingCall,
    /** After a transparent retry of a plain attempt: the request it held, sent first. */
    held: HeldRequest | undefined,
  ) {
    this.method = incoming.method;
    this.request = held ?? new HeldRequest();
    this.replay = held !== undefined && held.messages.length > 0 ? held.messages : undefined;
  }

  /** Checks the fan-out and opens every leg; may end the call before it returns. */
  start(route: FanOutRoute): void {
    let fanOut: ReturnType<typeof checkFanOut>;
    let names: string[];
    try {
      fanOut = checkFanOut(route.backend);
      names = fanOut.backends.map(routeBackendName);
      const metadata = this.incoming.outgoingMetadata(route, this.options.policy);
      this.metadata = metadata;
      this.mirror = CallMirror.of(route, metadata, this.incoming, this.options);
    } catch (error) {
      this.owner.onInvalidRoute(error);
      return;
    }
    this.streaming = fanOut.responses === 'stream';
    const limit = this.options.maxSendMessageLength;
    this.results = new FanOutResults(fanOut, names, this, limit);
    this.legs = fanOut.backends.map(
      (member, i) => new FanOutLeg(i, names[i], member, route, this, this.options),
    );
    const stream = this.parent;
    stream.on('readable', this.pump);
    stream.on('end', this.onClientHalfClose);
    stream.on('drain', this.onClientDrained);
    // A peek (./peek.ts) may have seen the client's half-close already.
    this.clientHalfClosed = stream.readableEnded;
    this.incoming.beforeForwarding(this.request);
    // Nothing is retried: the copies may open now.
    this.mirror?.final();
    const halfClosed = this.clientHalfClosed && this.replay === undefined;
    if (halfClosed) this.mirror?.halfClose();
    const deadline = +this.incoming.deadline;
    for (const leg of this.legs) {
      if (this.stopped) return;
      leg.open(deadline);
      if (halfClosed) leg.halfClose();
    }
    this.pump();
  }

  /** The call ended: the legs still running are cancelled and reported so. */
  stop(cancelMessage: string | undefined): void {
    if (this.stopped) return;
    this.stopped = true;
    const details = `${this.options.proxyName}: fan-out call ended before this backend`;
    const results = this.results;
    if (this.recorder !== undefined && results !== undefined) {
      this.recorder.fanOut = results.outcomes({ code: status.CANCELLED, details });
    }
    for (const leg of this.legs) leg.cancel(details);
    this.mirror?.callEnded(cancelMessage);
  }

  clientAccepts(): boolean {
    return !this.streaming || !this.clientFull;
  }

  onLegHeaders(metadata: Metadata): void {
    this.request.drop();
    if (this.headersSent || this.stopped) return;
    // The first response headers are the client's; the others are dropped.
    this.headersSent = true;
    this.guarded.answered = true;
    this.parent.sendMetadata(filterResponseMetadata(metadata, this.options.policy));
  }

  onLegMessage(leg: FanOutLeg, message: Buffer): void {
    if (this.stopped) return;
    this.results!.message(leg.index, message);
  }

  onLegEnded(leg: FanOutLeg, end: FanOutLegEnd<Metadata>): void {
    if (this.stopped) return;
    this.results!.legEnded(leg.index, end);
    // The leg takes no more messages: the next one may be read.
    this.pump();
  }

  onLegWritten(): void {
    this.pump();
  }

  onInvalidRoute(error: unknown): void {
    this.owner.onInvalidRoute(error);
  }

  finish(final: StatusObject, proxyError: boolean): void {
    this.owner.finish(final, proxyError);
  }

  toClient(message: Buffer): void {
    this.recorder?.toClient(message.length);
    if (!this.guarded.write(message)) this.clientFull = true;
  }

  endOk(trailers: readonly Metadata[]): void {
    const merged = new Metadata();
    for (const legTrailers of trailers) merged.merge(legTrailers);
    this.owner.finish({ code: status.OK, details: 'OK', metadata: merged }, false);
  }

  endWithFailure(_leg: number, end: FanOutLegEnd<Metadata>): void {
    this.owner.finish(
      { code: end.code, details: end.details, metadata: end.trailers },
      end.proxyError,
    );
  }

  fail(code: status, details: string, error?: unknown): void {
    this.owner.fail(code, details, error);
  }

  reject(_final: StatusObject, error: unknown): void {
    // `final` is what a director throwing `error` ends the call with.
    this.owner.onDirectorError(error);
  }

  metadataOf(trailers: Metadata): Metadata {
    return trailers;
  }

  /** Reads the next client message and gives it to every running leg, once all took the last. */
  private readonly pump = (): void => {
    if (this.stopped) return;
    const stream = this.parent;
    for (const leg of this.legs) {
      if (leg.busy) {
        // A half-close queued behind the message is noticed now ('end'), as in ./forwarding.ts.
        if (stream.readableLength === 0) stream.read(0);
        return;
      }
    }
    let message: Buffer;
    const replay = this.replay;
    if (replay !== undefined) {
      message = replay[this.replayIndex++];
      if (this.replayIndex === replay.length) this.replay = undefined;
    } else {
      const read = stream.read() as Buffer | null;
      if (read === null) return;
      const limit = this.options.maxReceiveMessageLength;
      if (read.length > limit) {
        this.owner.fail(status.RESOURCE_EXHAUSTED, clientMessageTooLarge(read.length, limit));
        return;
      }
      message = read;
      this.recorder?.fromClient(message.length);
      this.request.add(message);
    }
    this.mirror?.message(message, true);
    for (const leg of this.legs) leg.send(message);
    if (replay !== undefined && this.replay === undefined && this.clientHalfClosed) {
      this.halfCloseLegs();
    }
  };

  private readonly onClientHalfClose = (): void => {
    this.clientHalfClosed = true;
    if (this.stopped || this.replay !== undefined) return;
    this.halfCloseLegs();
  };

  private halfCloseLegs(): void {
    this.mirror?.halfClose();
    for (const leg of this.legs) leg.halfClose();
  }

  private readonly onClientDrained = (): void => {
    if (!this.clientFull || this.stopped) return;
    this.clientFull = false;
    for (const leg of this.legs) leg.read();
  };
}
