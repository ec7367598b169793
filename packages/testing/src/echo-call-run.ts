import { setTimeout as delay } from 'node:timers/promises';
import { Metadata, status as Status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import type { EchoCallLog, MutableEchoCallRecord } from './call-log';
import { EchoRequest, EchoResponse, HeadersMode } from './gen/grpc_proxy/testing/v1/echo';
import { entriesFromMetadata, metadataFromEntries } from './metadata-entries';
import { patternPayload } from './payload';

/** The parts of a grpc-js server call (any kind) the echo service uses. */
export interface EchoServerCall {
  readonly metadata: Metadata;
  getPath(): string;
  getPeer(): string;
  getDeadline(): Date | number;
  sendMetadata(metadata: Metadata): void;
  on(event: 'cancelled', listener: () => void): unknown;
}

/** Thrown by waits of a call that was cancelled or ran out of time; never sent to a client. */
class CallOver extends Error {}

/**
 * One echo call in progress: its knobs, its record in the call log, cancellation, deadline, and
 * the rules shared by every call kind (when headers go out, what a response holds, which status
 * ends the call).
 */
export class EchoCallRun {
  readonly record: MutableEchoCallRecord;
  private knobs: EchoRequest = EchoRequest.fromPartial({});
  private received = 0;
  private sent = 0;
  /** Request payloads collected for client streaming's concatenated answer. */
  readonly payloads: Buffer[] = [];
  private readonly abort = new AbortController();
  private readonly deadlineTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly call: EchoServerCall,
    private readonly log: EchoCallLog,
    private readonly serverName: string,
  ) {
    const deadline = toMillis(call.getDeadline());
    const remaining = Number.isFinite(deadline) ? Math.max(0, deadline - Date.now()) : -1;
    this.record = {
      method: call.getPath(),
      metadata: call.metadata.clone(),
      deadline,
      deadlineRemainingMs: remaining,
      peer: call.getPeer(),
      requests: [],
      responses: [],
      headers: undefined,
      halfClosed: false,
      status: undefined,
      cancelled: false,
      deadlineExceeded: false,
      ended: false,
    };
    call.on('cancelled', () => this.stop('cancelled'));
    if (remaining >= 0) {
      // grpc-js answers DEADLINE_EXCEEDED itself; this timer only stops our pending work.
      this.deadlineTimer = setTimeout(() => this.stop('deadline'), remaining);
    }
    log.add(this.record);
  }

  /** Aborted when the call is cancelled or runs out of time. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Whether the call is over (status sent, cancelled, or out of time). */
  get ended(): boolean {
    return this.record.ended;
  }

  /** The knobs of the call: the first request's. */
  get settings(): EchoRequest {
    return this.knobs;
  }

  /** How many requests the call has received. */
  get requestCount(): number {
    return this.received;
  }

  /** Records a request; the first one sets the knobs. */
  receive(request: EchoRequest, collectPayload = false): void {
    if (this.received === 0) this.knobs = request;
    this.received++;
    if (collectPayload) this.payloads.push(request.payload);
    this.record.requests.push(this.log.keep(request));
    this.log.changed();
  }

  /** Records the client's half-close. */
  halfClose(): void {
    this.record.halfClosed = true;
    this.log.changed();
  }

  /** Sends the configured response headers if `moment` is when the knobs want them. */
  sendHeadersAt(moment: 'start' | 'first-response'): void {
    if (this.record.headers !== undefined || this.ended) return;
    const mode = this.knobs.headersMode;
    const now =
      (moment === 'start' && mode === HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT) ||
      (moment === 'first-response' &&
        mode === HeadersMode.HEADERS_MODE_WITH_FIRST_RESPONSE &&
        this.knobs.responseHeaders.length > 0);
    if (!now) return;
    const headers = metadataFromEntries(this.knobs.responseHeaders);
    this.call.sendMetadata(headers);
    this.record.headers = headers;
    this.log.changed();
  }

  /** Whether the headers mode asks the server to wait for the client's next message. */
  get waitsAfterHeaders(): boolean {
    return this.knobs.headersMode === HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT;
  }

  /**
   * Handles the end of the request stream: resolves true, after recording the half-close, if
   * it was one; false if the call is over or turned out to be cancelled. Never rejects.
   *
   * Why wait: when a client cancels (RST_STREAM), node:http2 ends the request stream before it
   * reports the close, so the server first sees what looks like a half-close; grpc-js reports
   * the cancellation from process.nextTick callbacks of that same turn of the event loop.
   * Deciding one turn later tells a cancelled call from a half-closed one.
   */
  async requestStreamEnded(): Promise<boolean> {
    if (this.ended) return false;
    await new Promise((resolve) => setImmediate(resolve));
    if (this.ended) return false;
    this.halfClose();
    return true;
  }

  /** Waits `delay_ms`; rejects with an internal marker when the call ends meanwhile. */
  async pause(): Promise<void> {
    if (this.ended) throw new CallOver();
    if (this.knobs.delayMs > 0) {
      await delay(this.knobs.delayMs, undefined, { signal: this.abort.signal }).catch(() => {
        throw new CallOver();
      });
    }
    if (this.ended) throw new CallOver();
  }

  /**
   * Where the server would end the call: with `hold_until_cancelled`, waits until the call is
   * cancelled or out of time, then rejects with the internal marker (there is nothing left to
   * send); otherwise resolves at once.
   */
  async holdIfAsked(): Promise<void> {
    if (!this.knobs.holdUntilCancelled) return;
    const signal = this.abort.signal;
    if (!this.ended && !signal.aborted) {
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    }
    throw new CallOver();
  }

  /** Whether the knobs say to end the call now, given the responses sent so far. */
  get statusDue(): boolean {
    return this.knobs.statusCode !== undefined && this.sent >= this.knobs.statusAfter;
  }

  /** Builds the next response: `payload` (or the knobs' pattern), with what the server saw. */
  nextResponse(payload: Buffer): EchoResponse {
    return EchoResponse.fromPartial({
      payload: this.knobs.responseSize > 0 ? patternPayload(this.knobs.responseSize) : payload,
      serverName: this.serverName,
      deadlineRemainingMs: this.record.deadlineRemainingMs,
      requestMetadata: this.knobs.echoMetadata ? entriesFromMetadata(this.record.metadata) : [],
      index: this.sent,
      requestCount: this.received,
    });
  }

  /** Records a response about to be written, sending headers first when they are due. */
  respond(response: EchoResponse): void {
    this.sendHeadersAt('first-response');
    this.sent++;
    this.record.responses.push(this.log.keep(response));
    this.log.changed();
  }

  /** The status the call ends with: the knobs' (with trailers and details) or OK. */
  finalStatus(): StatusObject {
    const trailers = metadataFromEntries(this.knobs.responseTrailers);
    const code = this.knobs.statusCode ?? Status.OK;
    if (code === Status.OK) return { code, details: 'OK', metadata: trailers };
    if (this.knobs.statusDetails.length > 0) {
      trailers.set('grpc-status-details-bin', this.knobs.statusDetails);
    }
    return { code, details: this.knobs.statusMessage, metadata: trailers };
  }

  /** Records the status the server is sending; the call is over. */
  finish(status: StatusObject): void {
    this.record.status = status;
    this.markEnded();
  }

  /** Handles an error thrown by a handler step: ignored when the call is over, else INTERNAL. */
  failed(error: unknown, send: (status: StatusObject) => void): void {
    if (error instanceof CallOver || this.ended) return;
    const status = {
      code: Status.INTERNAL,
      details: `echo server failed: ${error instanceof Error ? error.message : String(error)}`,
      metadata: new Metadata(),
    };
    this.finish(status);
    send(status);
  }

  private stop(reason: 'cancelled' | 'deadline'): void {
    if (this.ended) return;
    // grpc-js cuts a call short at its deadline with a 'cancelled' event too: tell them apart.
    if (reason === 'cancelled' && Date.now() < this.record.deadline) this.record.cancelled = true;
    else this.record.deadlineExceeded = true;
    this.abort.abort();
    this.markEnded();
  }

  private markEnded(): void {
    this.record.ended = true;
    clearTimeout(this.deadlineTimer);
    this.log.changed();
  }
}

function toMillis(deadline: Date | number): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
