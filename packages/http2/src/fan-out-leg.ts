/**
 * One backend call (leg) of a fan-out call (./fan-out-call.ts): a normal backend stream of the
 * route through the session pool (connect wait included, ./backend-opening.ts), whose response
 * is split into whole messages (the client gets messages of several legs interleaved, so bytes
 * can no longer pass chunk by chunk), and whose end becomes a {@link FanOutLegEnd}: the
 * backend's own status, or the proxy's (unreachable, reset, not gRPC, too large, truncated).
 */
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { status } from '@grpc/grpc-js';
import {
  MAX_WIRE_MESSAGE_LENGTH,
  MessageDecoder,
  PrefixScanner,
  ScanResult,
} from '@grpc-proxy/codec';
import type { FanOutLegEnd } from '@grpc-proxy/handler/engine';
import { BackendOpening, type BackendOpeningListener } from './backend-opening';
import type { BackendRequest } from './backend-request';
import { cancelBackendStream, type BackendResetLimits } from './backend-resets';
import { isGrpcContentType, trailerCode, trailerMessage } from './headers';
import { scanFailure } from './scan-failure';
import { closedStreamOutcome, httpFailureOutcome } from './stream-outcome';
import { inflateLegMessage } from './fan-out-inflate';

/** A leg's end: its trailers (or trailers-only headers) as they came. */
export type LegEnd = FanOutLegEnd<IncomingHttpHeaders>;

/** What a leg tells its fan-out call. */
export interface LegOwner {
  /** The leg's stream is open, or it ended before it could be (see {@link FanOutLeg.open}). */
  legSettled(): void;
  /** The leg's response headers (a gRPC answer with messages or trailers to come). */
  legHeaders(leg: FanOutLeg, headers: IncomingHttpHeaders): void;
  /** One whole message of the leg: its payload, uncompressed. */
  legMessage(leg: FanOutLeg, payload: Buffer): void;
  /** The leg ended (called once). */
  legEnded(leg: FanOutLeg, end: LegEnd): void;
  /** The leg's stream took what was written to it: the client may be read again. */
  legDrained(): void;
}

/** What a leg needs of the proxy's options. */
export interface LegOptions extends BackendResetLimits {
  readonly proxyName: string;
  readonly maxSendMessageLength: number;
  readonly backendConnectTimeoutMs: number;
}

const LEG = Symbol('fan-out leg');
type LegStream = ClientHttp2Stream & { [LEG]?: FanOutLeg };

// Shared listeners (no closure per leg): each finds its leg on the stream.
function onResponse(this: LegStream, headers: IncomingHttpHeaders, flags: number): void {
  this[LEG]?.response(headers, flags);
}
function onTrailers(this: LegStream, trailers: IncomingHttpHeaders): void {
  this[LEG]?.trailers(trailers);
}
function onData(this: LegStream, chunk: Buffer): void {
  this[LEG]?.data(chunk);
}
function onEnd(this: LegStream): void {
  this[LEG]?.ended();
}
function onClose(this: LegStream): void {
  this[LEG]?.closed();
}
function onError(this: LegStream, error: Error): void {
  this[LEG]?.errored(error);
}
function onDrain(this: LegStream): void {
  this[LEG]?.drained();
}

/** One backend call of a fan-out. */
export class FanOutLeg implements BackendOpeningListener {
  stream: ClientHttp2Stream | undefined = undefined;
  private opening: BackendOpening | undefined = undefined;
  private readonly scanner: PrefixScanner;
  private readonly decoder = new MessageDecoder({ maxMessageLength: MAX_WIRE_MESSAGE_LENGTH });
  private encoding = 'identity';
  private answered = false;
  private httpFailure = 0;
  private trailerBlock: IncomingHttpHeaders | undefined = undefined;
  private lastError: Error | undefined = undefined;
  /** The leg's end was told (or the call stopped it): it emits nothing more. */
  done = false;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly request: BackendRequest,
    private readonly owner: LegOwner,
    private readonly options: LegOptions,
  ) {
    this.scanner = new PrefixScanner(options.maxSendMessageLength);
  }

  /**
   * Opens the backend stream, after a connect wait if its target is between attempts;
   * `unavailable` (the backend is out of rotation): the leg fails at once. The owner hears
   * `legSettled` once either way.
   */
  open(unavailable: string | undefined): void {
    if (unavailable !== undefined) return this.unprocessed(unavailable, undefined);
    const { request } = this;
    const waitMs = this.options.backendConnectTimeoutMs;
    this.opening = new BackendOpening(request, this, waitMs, request.deadlineMs);
    this.opening.start();
  }

  /** Whether the leg still takes client messages. */
  get writable(): boolean {
    const stream = this.stream;
    return !this.done && stream !== undefined && !stream.writableEnded && !stream.destroyed;
  }

  /** Writes a client chunk; false when the stream's buffer is full (wait for `legDrained`). */
  write(chunk: Buffer): boolean {
    if (!this.writable) return true;
    const stream = this.stream!;
    if (stream.write(chunk)) return true;
    if (stream.listenerCount('drain') === 0) stream.on('drain', onDrain);
    return false;
  }

  /** Whether the stream still holds more than its high-water mark of client bytes. */
  get full(): boolean {
    return this.writable && this.stream!.writableNeedDrain;
  }

  /** The client half-closed. */
  end(): void {
    if (this.writable) this.stream!.end();
  }

  pause(): void {
    if (!this.done) this.stream?.pause();
  }

  resume(): void {
    if (!this.done) this.stream?.resume();
  }

  /**
   * The call ended: a running leg is reset (CANCEL); one that ended gets the half-close it may
   * still owe (a reset would count against the backend's reset limit).
   */
  stop(): void {
    const running = !this.done;
    this.done = true;
    this.opening?.cancel();
    const stream = this.stream;
    if (stream === undefined) return;
    if (running) cancelBackendStream(stream, this.options);
    else if (!stream.writableEnded && !stream.destroyed) stream.end();
  }

  onBackendOpen(stream: ClientHttp2Stream): void {
    this.opening = undefined;
    this.stream = stream;
    (stream as LegStream)[LEG] = this;
    stream.on('response', onResponse);
    stream.on('trailers', onTrailers);
    stream.on('end', onEnd);
    stream.on('close', onClose);
    stream.on('error', onError);
    this.owner.legSettled();
  }

  /** Not opened (no connect in time, session gone): a failure of the leg, never retried. */
  unprocessed(details: string, _error: unknown): void {
    this.finish(this.proxyEnd(status.UNAVAILABLE, details));
    this.owner.legSettled();
  }

  fail(code: status, details: string): void {
    const settling = this.stream === undefined;
    this.finish(this.proxyEnd(code, details));
    if (settling) this.owner.legSettled();
  }

  response(headers: IncomingHttpHeaders, flags: number): void {
    if (this.done) return;
    this.answered = true;
    const stream = this.stream!;
    const httpStatus = Number(headers[':status']);
    if (httpStatus !== 200 || !isGrpcContentType(headers['content-type'])) {
      this.httpFailure = httpStatus; // its body is read and dropped, mapped once it is done
      stream.resume();
      return;
    }
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      this.finish(this.backendEnd(headers));
      return;
    }
    const encoding = headers['grpc-encoding'];
    if (typeof encoding === 'string') this.encoding = encoding;
    this.owner.legHeaders(this, headers);
    stream.on('data', onData);
  }

  trailers(trailers: IncomingHttpHeaders): void {
    this.trailerBlock = trailers;
  }

  data(chunk: Buffer): void {
    if (this.done || this.httpFailure !== 0) return;
    const result = this.scanner.scan(chunk);
    if (result !== ScanResult.OK) {
      const from = `backend ${this.name}`;
      const failure = scanFailure(result, this.scanner, from, 'maxSendMessageLength');
      this.fail(failure.code, failure.details);
      return;
    }
    for (const message of this.decoder.push(chunk)) {
      if (this.done) return;
      let payload = message.payload;
      if (message.compressed) {
        const { encoding, name, options } = this;
        const inflated = inflateLegMessage(payload, encoding, name, options.maxSendMessageLength);
        if (!Buffer.isBuffer(inflated)) return this.fail(inflated.code, inflated.details);
        payload = inflated;
      }
      this.owner.legMessage(this, payload);
    }
  }

  /** Every DATA frame read: the trailers (if any) came before. */
  ended(): void {
    if (this.done) return;
    if (this.httpFailure !== 0) this.failHttp();
    else if (this.trailerBlock === undefined)
      return; // reset, or no trailers: 'close' says
    else if (this.scanner.midMessage) {
      this.fail(status.INTERNAL, `backend ${this.name} failed: its last message was truncated`);
    } else this.finish(this.backendEnd(this.trailerBlock));
  }

  closed(): void {
    if (this.done) return;
    if (this.httpFailure !== 0) {
      this.failHttp();
      return;
    }
    const outcome = closedStreamOutcome(
      this.stream!,
      this.lastError,
      this.request,
      this.answered,
      this.name,
    );
    this.fail(outcome.code, outcome.details);
  }

  errored(error: Error): void {
    this.lastError ??= error;
  }

  drained(): void {
    if (!this.done) this.owner.legDrained();
  }

  private failHttp(): void {
    const outcome = httpFailureOutcome(this.httpFailure, this.name);
    this.fail(outcome.code, outcome.details);
  }

  private backendEnd(block: IncomingHttpHeaders): LegEnd {
    return {
      code: trailerCode(block),
      details: trailerMessage(block),
      trailers: block,
      proxyError: false,
    };
  }

  private proxyEnd(code: status, details: string): LegEnd {
    const full = `${this.options.proxyName}: ${details}`;
    return { code, details: full, trailers: {}, proxyError: true };
  }

  private finish(end: LegEnd): void {
    if (this.done) return;
    this.done = true;
    // Failed by the proxy while its stream runs (too large, not gRPC...): reset, nothing more
    // of it is read. A backend that gave its status gets our half-close now (not a reset, which
    // would count against its reset limit): the call may run on without it.
    const stream = this.stream;
    if (stream !== undefined && !stream.destroyed) {
      if (end.proxyError) cancelBackendStream(stream, this.options);
      else if (!stream.writableEnded) stream.end();
    }
    this.owner.legEnded(this, end);
  }
}
