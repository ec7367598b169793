/**
 * One proxied call, through its phases: the director chooses a route (`choosing`), the call may
 * wait for a backend channel that failed to connect (`connecting`), messages flow both ways
 * (`forwarding`, see ./forwarding.ts), and the call ends once (`ended`).
 *
 * All callbacks are created once per call; nothing is allocated per message.
 */
import { Metadata, connectivityState, status, type StatusObject } from '@grpc/grpc-js';
import { CallRecorder } from './call-recorder';
import { ConnectionWait, inTransientFailure, type ConnectionWaitListener } from './connection-wait';
import type { Route, StreamDirector } from './contracts';
import { Forwarding, type ForwardingOwner, type ServerStream } from './forwarding';
import { clientLeftStatus, deadlineExceededStatus, endingError } from './final-status';
import { IncomingCall } from './incoming-call';
import { finishOutgoingMetadata, sanitizeRouteMetadata } from './metadata-policy';
import type { ResolvedHandlerOptions } from './options';
import {
  BackendUnavailableError,
  createBackendCall,
  resolveBackend,
  type BackendChannel,
  type RawCall,
} from './route-backend';
import { describeError, directorRejection } from './status-error';
import { isThenable } from './thenable';
import { safely, warnUnexpected } from './warnings';

type Phase =
  | { readonly name: 'choosing' }
  | {
      readonly name: 'connecting';
      readonly route: Route;
      readonly backend: BackendChannel;
      readonly wait: ConnectionWait;
    }
  | { readonly name: 'forwarding'; readonly forwarding: Forwarding }
  | { readonly name: 'ended'; readonly final: StatusObject };

const CHOOSING: Phase = { name: 'choosing' };

function release(route: Route, final: StatusObject): void {
  if (typeof route.release === 'function') safely('route.release', () => route.release?.(final));
}

/** The state of one proxied call. */
export class ProxiedCall implements ConnectionWaitListener, ForwardingOwner {
  private readonly incoming: IncomingCall;
  /** Only when an observer is set. */
  private readonly recorder: CallRecorder | undefined;
  private phase: Phase = CHOOSING;
  /** The director's route, once it gave one; released when the call ends. */
  private route: Route | undefined = undefined;
  /** The backend's name, once known. */
  private backendName: string | undefined = undefined;
  private directorTimer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly stream: ServerStream,
    private readonly director: StreamDirector,
    private readonly options: ResolvedHandlerOptions,
  ) {
    this.incoming = IncomingCall.of(stream, options.policy);
    this.recorder =
      options.observer &&
      new CallRecorder(options.observer, this.incoming.method, this.incoming.peer);
  }

  start(): void {
    this.recorder?.started();
    this.stream.on('cancelled', this.onServerCallClosed);
    let result: Route | PromiseLike<Route>;
    try {
      result = this.director(this.incoming);
    } catch (error) {
      this.onDirectorError(error);
      return;
    }
    if (isThenable<Route>(result)) {
      if (this.options.directorTimeoutMs !== Infinity) {
        this.directorTimer = setTimeout(this.onDirectorTimeout, this.options.directorTimeoutMs);
      }
      result.then(this.onRoute, this.onDirectorError);
    } else {
      this.onRoute(result);
    }
  }

  private readonly onRoute = (route: Route): void => {
    this.clearDirectorTimer();
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
    this.route = route;
    this.startBackendCall(route);
  };

  private readonly onDirectorError = (error: unknown): void => {
    this.clearDirectorTimer();
    if (this.phase.name === 'ended') return;
    const rejection = directorRejection(error);
    if (rejection !== null) {
      this.end(rejection, true, error, undefined);
      return;
    }
    warnUnexpected(`${this.options.proxyName}: director failed on ${this.incoming.method}`, error);
    this.fail(status.INTERNAL, `director failed: ${describeError(error)}`, error);
  };

  private readonly onDirectorTimeout = (): void => {
    this.directorTimer = undefined;
    this.fail(
      status.UNAVAILABLE,
      `director chose no backend within ${this.options.directorTimeoutMs} ms`,
    );
  };

  private clearDirectorTimer(): void {
    if (this.directorTimer !== undefined) {
      clearTimeout(this.directorTimer);
      this.directorTimer = undefined;
    }
  }

  private failInvalidRoute(error: unknown): void {
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

  private startBackendCall(route: Route): void {
    let backend: BackendChannel;
    try {
      backend = resolveBackend(route.backend);
    } catch (error) {
      // A backend that cannot give a client (closed pool, ...) is unavailable; a route that is
      // no backend is a director bug.
      if (error instanceof BackendUnavailableError) {
        this.backendName = error.backendName;
        this.fail(status.UNAVAILABLE, error.message, error.cause);
      } else {
        this.failInvalidRoute(error);
      }
      return;
    }
    this.backendName = backend.name;
    if (this.options.backendConnectTimeoutMs > 0 && inTransientFailure(backend.channel)) {
      const timeoutMs = this.options.backendConnectTimeoutMs;
      const notAfter = Math.min(
        +this.incoming.deadline,
        +(route.callOptions?.deadline ?? Infinity),
      );
      const wait = new ConnectionWait(backend.channel, timeoutMs, notAfter, this);
      this.phase = { name: 'connecting', route, backend, wait };
      wait.start();
    } else {
      this.openBackendCall(route, backend, undefined);
    }
  }

  onBackendConnectable(expired: boolean): void {
    const phase = this.phase;
    if (phase.name !== 'connecting') return;
    this.openBackendCall(phase.route, phase.backend, expired ? phase.wait.limitMs : undefined);
  }

  onBackendNotConnected(state: connectivityState, atDeadline: boolean): void {
    const phase = this.phase;
    if (phase.name !== 'connecting') return;
    const notConnected = `not connected within ${phase.wait.limitMs} ms`;
    const backendName = phase.backend.name;
    if (!atDeadline) {
      const details = `${notConnected} (channel ${connectivityState[state]})`;
      this.fail(status.UNAVAILABLE, `backend ${backendName} unavailable: ${details}`);
    } else if (+this.incoming.deadline <= +(phase.route.callOptions?.deadline ?? Infinity)) {
      // The client's own deadline ends the call as grpc-js's deadline timer does when it is first.
      this.finish(deadlineExceededStatus(), false);
    } else {
      const details = `${notConnected}: Deadline exceeded`;
      this.fail(status.DEADLINE_EXCEEDED, `backend ${backendName} failed: ${details}`);
    }
  }

  private openBackendCall(
    route: Route,
    backend: BackendChannel,
    notConnectedWithinMs: number | undefined,
  ): void {
    let call: RawCall;
    let metadata: Metadata;
    try {
      metadata = route.metadata
        ? sanitizeRouteMetadata(route.metadata)
        : finishOutgoingMetadata(this.incoming.metadata, this.options.policy, this.incoming);
      call = createBackendCall(backend.channel, route, this.incoming.method, this.stream);
    } catch (error) {
      this.failOpening(backend.name, error);
      return;
    }
    const forwarding = new Forwarding(
      call,
      this.stream,
      this,
      this.options,
      this.recorder,
      backend.name,
      notConnectedWithinMs,
    );
    this.phase = { name: 'forwarding', forwarding };
    try {
      call.start(metadata, forwarding);
    } catch (error) {
      this.failOpening(backend.name, error);
      return;
    }
    forwarding.begin();
  }

  private failOpening(backendName: string, error: unknown): void {
    if (error instanceof TypeError) {
      // grpc-js rejects the route's call options (a deadline that is no date, ...).
      this.failInvalidRoute(error);
    } else {
      // e.g. "Channel has been shut down": a closed Client or Channel.
      this.fail(
        status.UNAVAILABLE,
        `backend ${backendName} unavailable: ${describeError(error)}`,
        error,
      );
    }
  }

  /**
   * grpc-js emits `cancelled` whenever the server call closes — also right after a status we
   * sent. Only a close before our status means the client left (cancel, deadline, lost
   * connection, or grpc-js ended the call itself, e.g. for an oversized message).
   */
  private readonly onServerCallClosed = (): void => {
    if (this.phase.name === 'ended') return;
    const final = clientLeftStatus(this.incoming.deadline);
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
    // A director still at work (timed out) has nothing left to decide.
    if (this.route === undefined) this.incoming.clientGone();
    this.stream.emit('error', endingError(final, error));
    this.report(final, proxyError, error);
  }

  /** Enters the `ended` phase (false when already there), stopping what the phase had running. */
  private settle(final: StatusObject, cancelBackendWith: string | undefined): boolean {
    const phase = this.phase;
    if (phase.name === 'ended') return false;
    this.phase = { name: 'ended', final };
    this.clearDirectorTimer();
    if (phase.name === 'connecting') phase.wait.cancel();
    else if (phase.name === 'forwarding') phase.forwarding.stop(cancelBackendWith);
    return true;
  }

  private report(final: StatusObject, proxyError: boolean, error: unknown): void {
    if (this.route !== undefined) release(this.route, final);
    this.recorder?.ended(final, proxyError, this.backendName, error);
  }
}
