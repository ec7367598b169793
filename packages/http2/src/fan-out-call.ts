/**
 * Fan-out (`Route.backend` a `FanOutBackend`) on the http2 engine: one backend stream per member
 * (./fan-out-leg.ts), opened at once, every client chunk written to each (by reference: every
 * leg gets the same bytes), the client read again only once every leg took the last chunk (the
 * slowest leg sets the pace), the half-close passed to all. The legs' answers go through the
 * engine-neutral `FanOutResults`, which calls this class as its sink: messages framed anew for
 * the client (whole messages: legs interleave), and one end. In `'stream'` mode every leg is
 * paused while the client's buffer is full. Legs are asked for `grpc-accept-encoding: identity`,
 * so that the messages of several legs can share one stream (and one merge); a leg that
 * compresses anyway is inflated (./fan-out-leg.ts).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { PrefixScanner, ScanResult, encodeMessagePrefix } from '@grpc-proxy/codec';
import type { FanOutBackend, MirrorRoute, Route, RouteBackend } from '@grpc-proxy/handler';
import {
  FanOutResults,
  checkFanOut,
  filterResponseMetadata,
  isForwardedResponseKey,
  type CallRecorder,
  type CompiledMetadataPolicy,
  type FanOutSink,
} from '@grpc-proxy/handler/engine';
import { BackendRequest } from './backend-request';
import { resolveTarget } from './backend-target';
import type { CallContext } from './call-context';
import { unavailableBackend } from './call-retries';
import { ToBackendCounter } from './forwarding';
import { FanOutLeg, type LegEnd, type LegOwner } from './fan-out-leg';
import { dropHopByHop } from './headers';
import type { Http2IncomingCall } from './incoming-call';
import { Mirrors } from './mirror';
import type { FirstMessagePeek } from './peek';
import type { Http2ProxiedCall } from './proxied-call';
import { scanFailure } from './scan-failure';
import { listenToClient, listenToClientDrain, type ClientPump } from './stream-events';

/**
 * How a fan-out ends the proxied call it belongs to: `fail` (the proxy's own failure), `end`
 * (exactly this status), `finishWithBackend` (a backend's status block).
 */
export type FanOutOwner = Pick<Http2ProxiedCall, 'fail' | 'end' | 'finishWithBackend'>;

/** What a fan-out call starts from. */
export interface FanOutStart {
  readonly route: Route;
  readonly backend: FanOutBackend;
  readonly incoming: Http2IncomingCall;
  /** Epoch milliseconds, `Infinity` for none. */
  readonly deadlineMs: number;
  readonly recorder: CallRecorder | undefined;
  /** The mirrors sampled for the call: one copy each, whatever the number of legs. */
  readonly mirrors: readonly MirrorRoute[];
}

const GRPC_RESPONSE = { ':status': 200, 'content-type': 'application/grpc' } as const;

/** One fan-out call: its legs, and the client's side of it. */
export class FanOutCall implements LegOwner, ClientPump, FanOutSink<IncomingHttpHeaders> {
  private readonly legs: FanOutLeg[];
  private readonly members: readonly RouteBackend[];
  private readonly results: FanOutResults<IncomingHttpHeaders>;
  private readonly fromClient: PrefixScanner;
  private readonly streaming: boolean;
  private mirrors: Mirrors | undefined = undefined;
  private peek: FirstMessagePeek | undefined = undefined;
  private unsettled = 0;
  private stopped = false;
  /** The client's stream is read (every leg settled its opening). */
  private reading = false;
  /** Paused because a leg's buffer is full. */
  private clientPaused = false;
  /** `'stream'`: the legs are paused because the client's buffer is full. */
  private legsPaused = false;
  private clientDrainHeard = false;

  /** Checks the fan-out (a `TypeError` is an invalid route) and prepares its legs. */
  constructor(
    private readonly owner: FanOutOwner,
    private readonly client: ServerHttp2Stream,
    private readonly context: CallContext,
    private readonly start: FanOutStart,
  ) {
    const fanOut = checkFanOut(start.backend);
    const { options, pool } = context;
    this.members = fanOut.backends as readonly RouteBackend[];
    this.legs = this.members.map((member, index) => {
      const target = resolveTarget(member);
      const { route, incoming, deadlineMs } = start;
      // `identity`: the client gets the messages of every leg on one stream, uncompressed.
      const request = new BackendRequest(pool, route, target, incoming, options.policy, deadlineMs);
      request.acceptEncoding = 'identity';
      return new FanOutLeg(index, target.name, request, this, options);
    });
    const names = this.legs.map((leg) => leg.name);
    this.results = new FanOutResults(fanOut, names, this, options.maxSendMessageLength);
    this.streaming = fanOut.responses === 'stream';
    const recorder = start.recorder;
    this.fromClient = new PrefixScanner(
      options.maxReceiveMessageLength,
      recorder && new ToBackendCounter(recorder),
    );
  }

  /**
   * Opens every leg at once (and the mirrors' copies); the client's stream (after what a `peek`
   * read) is read once every leg's opening settled.
   */
  begin(peek: FirstMessagePeek | undefined): void {
    this.peek = peek;
    const { mirrors } = this.start;
    if (mirrors.length !== 0)
      this.mirrors = new Mirrors(this.context, this.legs[0].request, mirrors);
    this.unsettled = this.legs.length;
    for (const leg of this.legs) {
      if (this.stopped) return;
      leg.open(unavailableBackend(this.members[leg.index], leg.name)?.details);
    }
  }

  /** How each leg ended, for `CallReport.fanOut` (a leg still running: cancelled). */
  outcomes(): ReturnType<FanOutResults<IncomingHttpHeaders>['outcomes']> {
    const details = `${this.context.options.proxyName}: fan-out call ended before this backend`;
    return this.results.outcomes({ code: status.CANCELLED, details });
  }

  /** The call ended: every running leg is reset; `cancel` drops the mirrors' copies too. */
  stop(cancel: boolean): void {
    if (this.stopped) return;
    this.stopped = true;
    this.mirrors?.callEnded(cancel);
    for (const leg of this.legs) leg.stop();
    // A client stream left paused would never end (nor let the proxy close): what is left of
    // it flows, and is dropped.
    if (this.clientPaused) this.client.resume();
  }

  legSettled(): void {
    if (--this.unsettled !== 0 || this.stopped || this.reading) return;
    this.reading = true;
    const client = this.client;
    if (this.peek === undefined) listenToClient(client, this);
    else this.peek.handOver(this);
    if (client.readableEnded) this.clientEnd();
  }

  clientData(chunk: Buffer): void {
    if (this.stopped) return;
    const result = this.fromClient.scan(chunk);
    if (result !== ScanResult.OK) {
      const failure = scanFailure(result, this.fromClient, 'client', 'maxReceiveMessageLength');
      this.owner.fail(failure.code, failure.details);
      return;
    }
    this.mirrors?.write(chunk);
    let full = false;
    for (const leg of this.legs) if (!leg.write(chunk)) full = true;
    if (full && !this.clientPaused) {
      this.clientPaused = true;
      this.client.pause();
    }
  }

  clientEnd(): void {
    if (this.stopped) return;
    if (this.fromClient.midMessage) {
      this.owner.fail(status.INTERNAL, 'the client ended its stream inside a message');
      return;
    }
    this.mirrors?.end();
    for (const leg of this.legs) leg.end();
  }

  /** A leg drained (or ended): the client is read again once no leg is full. */
  legDrained(): void {
    if (this.stopped || !this.clientPaused) return;
    for (const leg of this.legs) if (leg.full) return;
    this.clientPaused = false;
    this.client.resume();
  }

  clientDrain(): void {
    if (this.stopped || !this.legsPaused) return;
    this.legsPaused = false;
    for (const leg of this.legs) leg.resume();
  }

  legHeaders(_leg: FanOutLeg, headers: IncomingHttpHeaders): void {
    const client = this.client;
    // The first to arrive are the client's (unless it is gone already).
    if (this.stopped || client.headersSent || client.closed || client.destroyed) return;
    const forwarded = dropHopByHop(headers);
    delete forwarded['grpc-encoding']; // every message the client gets is uncompressed
    client.respond(forwarded, { waitForTrailers: true });
  }

  legMessage(leg: FanOutLeg, payload: Buffer): void {
    if (!this.stopped) this.results.message(leg.index, payload);
  }

  legEnded(leg: FanOutLeg, end: LegEnd): void {
    if (this.stopped) return;
    this.results.legEnded(leg.index, end);
    this.legDrained(); // the client may have waited on this leg's buffer
  }

  /* FanOutSink: what the results ask. */

  toClient(message: Buffer): void {
    const client = this.client;
    if (client.closed || client.destroyed) return;
    if (!client.headersSent) client.respond({ ...GRPC_RESPONSE }, { waitForTrailers: true });
    this.start.recorder?.toClient(message.length);
    client.write(encodeMessagePrefix(message.length));
    if (client.write(message) || !this.streaming || this.legsPaused) return;
    this.legsPaused = true;
    for (const leg of this.legs) leg.pause();
    if (!this.clientDrainHeard) listenToClientDrain(client);
    this.clientDrainHeard = true;
  }

  endOk(trailers: readonly IncomingHttpHeaders[]): void {
    const block = mergeTrailers(trailers, this.context.options.policy);
    const trailersOnly = !this.client.headersSent;
    if (trailersOnly) Object.assign(block, GRPC_RESPONSE);
    this.owner.finishWithBackend(block as IncomingHttpHeaders, trailersOnly);
  }

  endWithFailure(_leg: number, end: LegEnd): void {
    if (end.proxyError) {
      this.owner.end(end.code, end.details, undefined, true, undefined);
      return;
    }
    const trailersOnly = !this.client.headersSent;
    const block: OutgoingHttpHeaders = {};
    for (const key in end.trailers) {
      // Trailers after headers sent carry no pseudo header nor content type.
      if (trailersOnly || (key.charCodeAt(0) !== 0x3a && key !== 'content-type')) {
        block[key] = end.trailers[key];
      }
    }
    if (trailersOnly) Object.assign(block, GRPC_RESPONSE);
    this.owner.finishWithBackend(block as IncomingHttpHeaders, trailersOnly);
  }

  fail(code: status, details: string, error?: unknown): void {
    this.owner.fail(code, details, error);
  }

  reject(final: StatusObject, error: unknown): void {
    this.owner.end(final.code, final.details, final.metadata, true, error);
  }

  metadataOf(trailers: IncomingHttpHeaders): Metadata {
    return filterResponseMetadata(Metadata.fromHttp2Headers(trailers), this.context.options.policy);
  }
}

/**
 * The trailers of an `OK` fan-out: every leg's (in backend order, values of a key appended), what
 * the response metadata policy forwards, and `grpc-status: 0`.
 */
export function mergeTrailers(
  blocks: readonly IncomingHttpHeaders[],
  policy: CompiledMetadataPolicy,
): OutgoingHttpHeaders {
  const values = new Map<string, string[]>();
  for (const block of blocks) {
    for (const key in block) {
      const value = block[key];
      if (value === undefined || key.charCodeAt(0) === 0x3a) continue;
      if (!isForwardedResponseKey(policy, key)) continue;
      let list = values.get(key);
      if (list === undefined) values.set(key, (list = []));
      if (Array.isArray(value)) list.push(...value);
      else list.push(value);
    }
  }
  const merged: OutgoingHttpHeaders = {};
  for (const [key, list] of values) merged[key] = list.length === 1 ? list[0] : list;
  merged['grpc-status'] = '0';
  return merged;
}
