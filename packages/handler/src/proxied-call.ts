/**
 * One proxied call, through its phases: the director chooses a route (`choosing`), the attempt
 * on it opens its backend call (`connecting`, see ./backend-opening.ts), messages flow both ways
 * (`forwarding`, see ./forwarding.ts), and the call ends once (`ended`). An attempt the backend
 * did not process goes back to `choosing`: a transparent retry (see ./transparent-retry.ts).
 * A fan-out route's call is forwarded by ./fan-out-call.ts.
 *
 * All callbacks are created once per call; nothing is allocated per message.
 */
import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import { BackendOpening, failedOpening, type OpeningListener } from './backend-opening';
import { CallMirror } from './call-mirror';
import { CallRecorder } from './call-recorder';
import type { Route, StreamDirector } from './contracts';
import { isFanOutBackend } from './fan-out';
import { FanOutCall, type FanOutRoute } from './fan-out-call';
import { DirectorQuestion, type DirectorAnswers } from './director-question';
import { Forwarding, type ForwardingOwner, type ServerStream } from './forwarding';
import { clientLeftStatus, endingError, sentStatus } from './final-status';
import type { GuardedCall, StallListener } from './guarded-call';
import { IncomingCall } from './incoming-call';
import type { ResolvedHandlerOptions } from './options';
import {
  createBackendCall,
  releaseRoute as release,
  type BackendChannel,
  type RawCall,
} from './route-backend';
import { describeError, directorRejection } from './status-error';
import { TransparentRetries } from './transparent-retry';
import { warnUnexpected } from './warnings';

type Phase =
  | { readonly name: 'choosing' }
  | { readonly name: 'connecting'; readonly route: Route; readonly opening: BackendOpening }
  | { readonly name: 'forwarding' }
  | { readonly name: 'ended'; readonly final: StatusObject };

const CHOOSING: Phase = { name: 'choosing' };
const FORWARDING: Phase = { name: 'forwarding' };

/** The state of one proxied call. */
export class ProxiedCall
  implements OpeningListener, ForwardingOwner, DirectorAnswers, StallListener
{
  private readonly incoming: IncomingCall;
  /** Only when an observer is set. */
  private readonly recorder: CallRecorder | undefined;
  private phase: Phase = CHOOSING;
  /** The route of the current attempt, once the director gave it; released when it is left. */
  private route: Route | undefined = undefined;
  /** The name of the backend last tried, once known. */
  private backendName: string | undefined = undefined;
  private readonly question: DirectorQuestion;
  /** Made with the first backend call and kept across attempts: it holds the request. */
  private forwarding: Forwarding | undefined = undefined;
  /** A fan-out route's legs (./fan-out-call.ts), once the director gave one. */
  private fanOut: FanOutCall | undefined = undefined;
  /** The retry budget, made when an attempt first fails unprocessed. */
  private retries: TransparentRetries | undefined = undefined;
  /** While the director is asked again: the status of the attempt the retry replaces. */
  private retrying: StatusObject | undefined = undefined;

  constructor(
    private readonly stream: ServerStream,
    director: StreamDirector,
    private readonly options: ResolvedHandlerOptions,
    /** The call as its client connection's guard sees it (./client-guard.ts). */
    private readonly guarded: GuardedCall,
  ) {
    this.incoming = new IncomingCall(guarded, options, this);
    this.recorder =
      options.observer &&
      new CallRecorder(options.observer, this.incoming.method, this.incoming.peer);
    this.question = new DirectorQuestion(director, this.incoming, options.directorTimeoutMs, this);
    guarded.owner = this;
  }

  /** Starts the call, or with `refusal` (a client limit, see ./client-guard.ts) ends it at once. */
  start(refusal?: string): void {
    this.recorder?.started();
    if (refusal !== undefined) {
      this.fail(status.RESOURCE_EXHAUSTED, refusal);
      return;
    }
    this.stream.on('cancelled', this.onServerCallClosed);
    this.question.ask();
  }

  onRoute(route: Route): void {
    const phase = this.phase;
    if (phase.name === 'ended') {
      // The client left (or the director timed out) before the route arrived.
      if (route) release(route, phase.final);
      return;
    }
    if (route === null || typeof route !== 'object') {
      this.fail(status.INTERNAL, `director returned no route (${String(route)})`);
      return;
    }
    const retrying = this.retrying;
    if (retrying !== undefined) {
      const retries = this.retries!;
      if (!retries.mayRetryOn(route.backend)) {
        // A backend tried enough: the director may give another (rotation), within the budget.
        release(route, retrying);
        if (retries.mayAskAgain()) this.question.ask();
        else this.end(retrying, true, undefined, undefined);
        return;
      }
      this.retrying = undefined;
      retries.attempted(route.backend);
      if (this.recorder) this.recorder.retries = retries.count;
    }
    this.route = route;
    if (isFanOutBackend(route.backend)) {
      this.backendName = String(route.backend.name);
      this.phase = FORWARDING;
      const held = this.forwarding?.request;
      const { stream, options, recorder, guarded, incoming } = this;
      this.fanOut = new FanOutCall(stream, this, options, recorder, guarded, incoming, held);
      this.fanOut.start(route as FanOutRoute);
      return;
    }
    const opening = new BackendOpening(route, +this.incoming.deadline, this.options, this);
    this.phase = { name: 'connecting', route, opening };
    opening.start();
  }

  onDirectorError(error: unknown): void {
    if (this.phase.name === 'ended') return;
    const rejection = directorRejection(error);
    if (rejection !== null) {
      this.end(rejection, true, error, undefined);
      return;
    }
    warnUnexpected(`${this.options.proxyName}: director failed on ${this.incoming.method}`, error);
    this.fail(status.INTERNAL, `director failed: ${describeError(error)}`, error);
  }

  onDirectorTimeout(): void {
    this.fail(
      status.UNAVAILABLE,
      `director chose no backend within ${this.options.directorTimeoutMs} ms`,
    );
  }

  onInvalidRoute(error: unknown): void {
    warnUnexpected(
      `${this.options.proxyName}: director returned an invalid route for ${this.incoming.method}`,
      error,
    );
    this.fail(
      status.INTERNAL,
      `director returned an invalid route: ${describeError(error)}`,
      error,
    );
  }

  onNotSent(details: string): void {
    const message = `${this.options.proxyName}: ${details}`;
    this.unprocessed(
      { code: status.UNAVAILABLE, details: message, metadata: new Metadata() },
      true,
    );
  }

  onOpenable(backend: BackendChannel, notConnectedWithinMs: number | undefined): void {
    const phase = this.phase;
    if (phase.name !== 'connecting') return;
    const route = phase.route;
    this.backendName = backend.name;
    let call: RawCall;
    let metadata: Metadata;
    let mirror: CallMirror | undefined;
    try {
      metadata = this.incoming.outgoingMetadata(route, this.options.policy);
      mirror = CallMirror.of(route, metadata, this.incoming, this.options);
      call = createBackendCall(backend.channel, route, this.incoming.method, this.stream);
    } catch (error) {
      failedOpening(this, backend.name, error);
      return;
    }
    const forwarding = (this.forwarding ??= new Forwarding(
      this.stream,
      this,
      this.options,
      this.recorder,
      this.guarded,
    ));
    forwarding.attach(call, backend.name, notConnectedWithinMs, mirror);
    this.phase = FORWARDING;
    try {
      call.start(metadata, forwarding);
    } catch (error) {
      failedOpening(this, backend.name, error);
      return;
    }
    this.incoming.beforeForwarding(forwarding.request);
    forwarding.begin();
  }

  /**
   * The backend did not process the attempt: while the request is held and the budget allows,
   * the route is left (released with `final`) and the director asked again; otherwise the call
   * ends with `final`.
   */
  unprocessed(final: StatusObject, unreachable = false): void {
    const phase = this.phase;
    if (phase.name === 'ended') return;
    if (phase.name === 'connecting') this.backendName = phase.opening.backendName;
    const route = this.route!;
    let retries = this.retries;
    if (retries === undefined) {
      retries = this.retries = new TransparentRetries(+this.incoming.deadline);
      retries.attempted(route.backend);
    }
    if (unreachable) retries.unreachable(route.backend);
    if (!(this.forwarding?.request.held ?? true) || !retries.mayRetry()) {
      this.end(final, true, undefined, undefined);
      return;
    }
    this.route = undefined;
    release(route, final);
    this.retrying = final;
    this.phase = CHOOSING;
    this.question.ask();
  }

  onStalled(timeoutMs: number): void {
    this.fail(
      status.CANCELLED,
      `the client read nothing for ${timeoutMs} ms (clientStallTimeoutMs)`,
    );
  }

  /**
   * grpc-js emits `cancelled` whenever the server call closes — also right after a status we
   * sent. Only a close before our status means the client left (cancel, deadline, lost
   * connection), or grpc-js ended the call itself (an oversized message): then its status.
   */
  private readonly onServerCallClosed = (): void => {
    if (this.phase.name === 'ended') return;
    const final = sentStatus(this.guarded.http2Stream) ?? clientLeftStatus(this.incoming.deadline);
    this.settle(final, `${this.options.proxyName}: client went away`);
    this.incoming.clientGone();
    this.report(final, false, undefined);
  };

  /** Ends the call with a failure of the proxy itself; the message names the proxy. */
  fail(code: status, details: string, error?: unknown): void {
    const message = `${this.options.proxyName}: ${details}`;
    this.end({ code, details: message, metadata: new Metadata() }, true, error, message);
  }

  finish(final: StatusObject, proxyError: boolean): void {
    this.end(final, proxyError, undefined, undefined);
  }

  /**
   * Sends `final` to the client once pending messages are written. `error` is what was thrown,
   * kept as the `cause`; `cancelBackendWith` cancels a backend call still running.
   */
  private end(
    final: StatusObject,
    proxyError: boolean,
    error: unknown,
    cancelBackendWith: string | undefined,
  ): void {
    if (!this.settle(final, cancelBackendWith)) return;
    // The client has its answer: leaving now is no reset.
    this.guarded.answered = true;
    // A director still at work (timed out, or asked again) has nothing left to decide.
    if (this.route === undefined) this.incoming.clientGone();
    this.stream.emit('error', endingError(final, error));
    this.report(final, proxyError, error);
  }

  /** Enters the `ended` phase (false when already there), stopping what the phase had running. */
  private settle(final: StatusObject, cancelBackendWith: string | undefined): boolean {
    const phase = this.phase;
    if (phase.name === 'ended') return false;
    this.phase = { name: 'ended', final };
    this.question.clear();
    this.incoming.ended(final);
    if (phase.name === 'connecting') {
      this.backendName = phase.opening.backendName ?? this.backendName;
      phase.opening.cancel();
    }
    this.forwarding?.stop(cancelBackendWith);
    this.fanOut?.stop(cancelBackendWith);
    return true;
  }

  private report(final: StatusObject, proxyError: boolean, error: unknown): void {
    if (this.route !== undefined) release(this.route, final);
    this.recorder?.ended(final, proxyError, this.backendName, error);
  }
}
