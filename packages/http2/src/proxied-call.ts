/**
 * One call through the http2 engine, in phases: the director chooses a route (`choosing`), the
 * backend stream opens (at once, or after a reconnection wait, ./backend-opening.ts), bytes flow
 * both ways (`forwarding`, ./forwarding.ts; copies, ./mirror.ts; fan-out, ./fan-out-call.ts),
 * and the call ends once (`ended`: status sent unless the client is gone, backend streams reset
 * if open, reported). An attempt no backend processed goes back to `choosing` (retry).
 */
import type { ClientHttp2Stream, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { status, type Metadata } from '@grpc/grpc-js';
import { isFanOutBackend, type FanOutBackend, type Route } from '@grpc-proxy/handler';
import { CallRecorder, clientLeftStatus, sampleMirrors } from '@grpc-proxy/handler/engine';
import { BackendOpening, type BackendOpeningListener } from './backend-opening';
import { BackendRequest } from './backend-request';
import { ignoreError, onClientStreamClose } from './client-guard';
import { checkRouteOptions, resolveTarget, type Http2Target } from './backend-target';
import { askDirector, directorFailure, directorTimer, invalidRouteDetails } from './call-director';
import { CallOutcome, releaseRoute } from './call-outcome';
import {
  CallRetries,
  attemptStatus,
  unavailableBackend,
  type UnprocessedAttempt,
} from './call-retries';
import type { CallContext } from './call-context';
import { CallSetMember } from './call-set';
import { Forwarding, type ForwardingOwner } from './forwarding';
import { FanOutCall } from './fan-out-call';
import { deadlineTimer } from './grpc-timeout';
import { trailerCode, trailerMessage } from './headers';
import type { FirstMessageReader, Http2IncomingCall } from './incoming-call';
import { Mirrors, NO_MIRRORS } from './mirror';
import { FirstMessagePeek } from './peek';
import { sendBackendStatus, sendStatus } from './status-sender';

type Phase = 'choosing' | 'forwarding' | 'ended';

/** The state of one proxied call. */
export class Http2ProxiedCall
  extends CallSetMember<Http2ProxiedCall>
  // Also what the director, the timers and the client guard call (structurally, at each call).
  implements BackendOpeningListener, ForwardingOwner, FirstMessageReader
{
  private phase: Phase = 'choosing';
  private readonly recorder: CallRecorder | undefined;
  private route: Route | undefined = undefined;
  private backendName: string | undefined = undefined;
  private opening: BackendOpening | undefined = undefined;
  private forwarding: Forwarding | undefined = undefined;
  private fanOut: FanOutCall | undefined = undefined;
  private peek: FirstMessagePeek | undefined = undefined;
  private mirrors = NO_MIRRORS; // copied to from the first route forwarded on, through retries
  private timer: NodeJS.Timeout | undefined = undefined;
  private readonly retries: CallRetries;
  private readonly outcome: CallOutcome;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly incoming: Http2IncomingCall,
    private readonly context: CallContext,
  ) {
    super();
    const observer = context.options.observer;
    this.recorder = observer && new CallRecorder(observer, incoming.method, incoming.peer);
    this.retries = new CallRetries(incoming.deadlineMs);
    this.outcome = new CallOutcome(context.options.policy);
    incoming.reader = this;
  }

  start(): void {
    this.recorder?.started();
    this.context.calls.add(this);
    const stream = this.stream;
    onClientStreamClose(stream, this);
    // The client guard's listener usually keeps a reset from throwing already: no second one.
    if (stream.listenerCount('error') === 0) stream.on('error', ignoreError);
    if (this.incoming.deadlineMs > Date.now()) this.askDirector();
    else this.deadlineReached();
  }

  /** Asks the director for a route (again for a retry: same `ProxyCall`). */
  private askDirector(): void {
    this.clearTimer();
    const { director } = this.context;
    const pending = askDirector(director, this.incoming, this);
    // A director that answered synchronously needs no time limit: no timer per call for it.
    // One timer at a time otherwise: the director's limit, then the call's deadline. (A thenable
    // may also have answered at once: then the route is there, and maybe its deadline timer.)
    if (!pending || this.phase !== 'choosing' || this.route || this.timer) return;
    const remaining = this.incoming.deadlineMs - Date.now();
    const directorTimeoutMs = this.context.options.directorTimeoutMs;
    if (directorTimeoutMs < remaining) this.timer = directorTimer(this, directorTimeoutMs);
    else this.timer = deadlineTimer(this, remaining);
  }

  /** The proxy shuts down: the call ends with `UNAVAILABLE` `<proxy>: shutting down`. */
  shutDown(): void {
    this.fail(status.UNAVAILABLE, 'shutting down');
  }

  routeChosen(route: Route): void {
    if (this.phase === 'ended') {
      // The client left (or the director timed out) before the route arrived.
      if (route) releaseRoute(route, this.outcome);
      return;
    }
    if (route === null || typeof route !== 'object') {
      this.fail(status.INTERNAL, `director returned no route (${String(route)})`);
      return;
    }
    this.route = route;
    const fanOut = isFanOutBackend(route.backend); // never retried transparently
    const refused = fanOut ? undefined : this.retries.admit(route.backend);
    if (refused !== undefined) {
      // A backend tried enough: another may come from the director (rotation); over budget, the
      // call ends with the last attempt's status, this route released with it.
      if (this.retries.mayAskAgain()) this.askAgain(route, refused);
      else this.fail(status.UNAVAILABLE, refused.details, refused.error);
      return;
    }
    this.armDeadline();
    let target: Http2Target;
    let unavailable: UnprocessedAttempt | undefined;
    try {
      checkRouteOptions(route);
      this.mirrors = sampleMirrors(route);
      if (fanOut) return this.fanOutTo(route, route.backend as FanOutBackend);
      target = resolveTarget(route.backend);
      unavailable = unavailableBackend(route.backend, target.name);
    } catch (error) {
      const { proxyName } = this.context.options;
      const details = invalidRouteDetails(error, proxyName, this.incoming.method);
      this.fail(status.INTERNAL, details, error);
      return;
    }
    this.backendName = target.name;
    // Out of rotation (passive health) or closed: no connect wait, another backend may take it.
    if (unavailable !== undefined) this.unprocessed(unavailable.details, unavailable.error);
    else this.openBackend(route, target);
  }

  /** A fan-out (./fan-out-call.ts): every member at once. Throws for an invalid one. */
  private fanOutTo(route: Route, backend: FanOutBackend): void {
    this.backendName = String(backend.name);
    const { incoming, recorder, mirrors } = this;
    const start = { route, backend, incoming, recorder, deadlineMs: this.deadlineMs(), mirrors };
    this.fanOut = new FanOutCall(this, this.stream, this.context, start);
    this.phase = 'forwarding';
    this.fanOut.begin(this.peek);
  }

  /**
   * The attempt was not processed by any backend: while the request is still kept, nothing was
   * answered and the budget allows, the route is released with the attempt's `UNAVAILABLE` and
   * the director asked again; otherwise the call ends with that status.
   */
  unprocessed(details: string, error: unknown, unreachable = false): void {
    if (this.phase === 'ended') return;
    if (unreachable && this.route !== undefined) this.retries.unreachable(this.route.backend);
    const attempt = { details, error };
    const holds = this.forwarding?.holdsRequest !== false && this.deadlineMs() > Date.now();
    if (!this.retries.retry(attempt, holds)) {
      this.fail(status.UNAVAILABLE, details, error);
      return;
    }
    this.askAgain(this.route!, attempt);
  }

  /** Leaves `route` (released with `attempt`'s status) and asks the director again. */
  private askAgain(route: Route, attempt: UnprocessedAttempt): void {
    this.route = undefined;
    this.opening = undefined;
    this.phase = 'choosing';
    releaseRoute(route, { status: () => attemptStatus(this.context.options.proxyName, attempt) });
    this.askDirector();
  }

  directorFailed(error: unknown): void {
    if (this.phase === 'ended') return;
    const failure = directorFailure(error, this.context.options.proxyName, this.incoming.method);
    if (failure.proxyFailure) this.fail(failure.code, failure.details, error);
    else this.end(failure.code, failure.details, failure.metadata, true, error);
  }

  directorTimedOut(): void {
    this.timer = undefined;
    const limit = this.context.options.directorTimeoutMs;
    this.fail(status.UNAVAILABLE, `director chose no backend within ${limit} ms`);
  }

  deadlineReached(): void {
    this.timer = undefined;
    this.end(status.DEADLINE_EXCEEDED, 'Deadline exceeded', undefined, false, undefined);
  }

  /** After the director: the call's own deadline, or the route's if it is sooner. */
  private armDeadline(): void {
    this.clearTimer();
    this.timer = deadlineTimer(this, this.deadlineMs() - Date.now());
  }

  private deadlineMs(): number {
    return Math.min(this.incoming.deadlineMs, +(this.route?.callOptions?.deadline ?? Infinity));
  }

  private openBackend(route: Route, target: Http2Target): void {
    const { context, incoming } = this;
    const { options, pool } = context;
    const deadlineMs = this.deadlineMs();
    const request = new BackendRequest(pool, route, target, incoming, options.policy, deadlineMs);
    this.opening = new BackendOpening(request, this, options.backendConnectTimeoutMs, deadlineMs);
    this.opening.start();
  }

  onBackendOpen(backend: ClientHttp2Stream, request: BackendRequest): void {
    const name = request.target.name;
    this.phase = 'forwarding';
    this.opening = undefined; // done: not kept for the call's whole life (idle stream memory)
    if (this.forwarding !== undefined) return this.forwarding.resumeOn(backend, request, name);
    const { stream, recorder, mirrors } = this;
    const { options } = this.context;
    this.forwarding = new Forwarding(stream, backend, request, this, options, recorder, name);
    if (mirrors.length !== 0) this.forwarding.mirrors = new Mirrors(this.context, request, mirrors);
    this.forwarding.begin(this.peek);
  }

  /** Peek (./peek.ts): the director asks for the first message, read while it chooses. */
  readFirstMessage(): Promise<Buffer | null> {
    const peek = new FirstMessagePeek(this, this.context.options, this.incoming.headers);
    if (this.phase === 'ended') peek.callEnded(this.outcome);
    else if (this.route !== undefined || this.forwarding !== undefined) peek.tooLate();
    else (this.peek = peek).read(this.stream);
    return peek.promise;
  }

  /** Ends the call with a failure of the proxy itself; the message names the proxy. */
  fail(code: status, details: string, error?: unknown): void {
    this.end(code, `${this.context.options.proxyName}: ${details}`, undefined, true, error);
  }

  finishWithBackend(trailers: IncomingHttpHeaders, trailersOnly: boolean): void {
    if (!this.settle(false)) return;
    sendBackendStatus(this.stream, trailers, trailersOnly);
    this.outcome.set(trailerCode(trailers), trailerMessage(trailers), undefined, trailers);
    this.report(false, undefined);
  }

  /** Sends the status (as trailers after forwarded headers, else trailers-only) and reports. */
  end(
    code: status,
    details: string,
    metadata: Metadata | undefined,
    proxyError: boolean,
    error: unknown,
  ): void {
    if (!this.settle(true)) return;
    sendStatus(this.stream, code, details, metadata);
    this.outcome.set(code, details, metadata);
    this.report(proxyError, error);
  }

  /** Enters `ended` (false when already there), stopping timers and the backend stream. */
  private settle(cancelBackend: boolean): boolean {
    if (this.phase === 'ended') return false;
    this.phase = 'ended';
    this.clearTimer();
    this.opening?.cancel();
    this.forwarding?.stop(cancelBackend);
    this.fanOut?.stop(cancelBackend);
    // A director still at work has nothing left to decide.
    if (this.route === undefined) this.incoming.clientGone();
    return true;
  }

  /** Closed before we sent a status: the client reset the stream, or its connection went. */
  streamClosed(): void {
    if (this.phase === 'ended') return;
    const { code, details, metadata } = clientLeftStatus(this.incoming.deadline);
    this.settle(true);
    this.incoming.clientGone();
    this.outcome.set(code, details, metadata);
    this.report(false, undefined);
  }

  private clearTimer(): void {
    clearTimeout(this.timer); // nothing for undefined
    this.timer = undefined;
  }

  private report(proxyError: boolean, error: unknown): void {
    this.peek?.callEnded(this.outcome); // a director awaiting the first message gets the status
    this.context.calls.delete(this);
    if (this.route !== undefined) releaseRoute(this.route, this.outcome); // no closure per call
    const recorder = this.recorder;
    if (recorder === undefined) return;
    recorder.retries = this.retries.count;
    recorder.fanOut = this.fanOut?.outcomes();
    recorder.ended(this.outcome, proxyError, this.backendName, error);
  }
}
