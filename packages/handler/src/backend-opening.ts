/**
 * The `connecting` phase of one attempt of a proxied call: the route's backend becomes a channel,
 * a backend out of rotation fails the attempt at once, and a channel that failed its last
 * connection attempt is waited for (`backendConnectTimeoutMs`, see ./connection-wait.ts) before
 * the backend call is opened.
 */
import { connectivityState, status, type StatusObject } from '@grpc/grpc-js';
import { ConnectionWait, inTransientFailure, type ConnectionWaitListener } from './connection-wait';
import type { Backend, Route } from './contracts';
import { deadlineExceededStatus } from './final-status';
import type { ResolvedHandlerOptions } from './options';
import { BackendUnavailableError, resolveBackend, type BackendChannel } from './route-backend';
import { describeError } from './status-error';

/** What the call hears of its attempt's opening; at most one call, never after `cancel()`. */
export interface OpeningListener {
  /** The backend call can be opened on `backend`, after waiting `notConnectedWithinMs` in vain. */
  onOpenable(backend: BackendChannel, notConnectedWithinMs: number | undefined): void;
  /**
   * The attempt failed before anything was sent to the backend (out of rotation, not connected
   * in time): `details` names the backend, without the proxy's name.
   */
  onNotSent(details: string): void;
  /** The attempt failed for good, and the call with it; `details` without the proxy's name. */
  fail(code: status, details: string, error?: unknown): void;
  /** The call's own deadline passed while waiting: the call ends with `final`. */
  finish(final: StatusObject, proxyError: boolean): void;
  /** The route is no backend at all: a director bug. */
  onInvalidRoute(error: unknown): void;
}

/** A backend that says it is out of rotation (closed, or its connections fail). */
function unavailableBackend(backend: Route['backend']): Backend | undefined {
  const candidate = backend as Partial<Backend> | null;
  if (typeof candidate?.client !== 'function' || typeof candidate.isAvailable !== 'function') {
    return undefined;
  }
  return candidate.isAvailable() === false ? (candidate as Backend) : undefined;
}

/** Opens one attempt of a call on `route`. */
export class BackendOpening implements ConnectionWaitListener {
  /** Set while waiting for the channel to connect. */
  private wait: ConnectionWait | undefined = undefined;
  private backend: BackendChannel | undefined = undefined;
  /** The backend's name, once known. */
  backendName: string | undefined = undefined;

  constructor(
    private readonly route: Route,
    private readonly callDeadline: number,
    private readonly options: ResolvedHandlerOptions,
    private readonly listener: OpeningListener,
  ) {}

  /** Starts; the listener may hear the outcome before this returns. */
  start(): void {
    const route = this.route;
    const out = unavailableBackend(route.backend);
    if (out !== undefined) {
      // Passive health knows it is down: failing now beats a connect wait (no call is sent).
      const name = (this.backendName = String(out.name));
      const reason = out.connectionError?.message ?? 'out of rotation';
      this.listener.onNotSent(`backend ${name} unavailable: ${reason}`);
      return;
    }
    let backend: BackendChannel;
    try {
      backend = resolveBackend(route.backend);
    } catch (error) {
      // A backend that cannot give a client (closed pool, ...) is unavailable; a route that is
      // no backend is a director bug.
      if (error instanceof BackendUnavailableError) {
        this.backendName = error.backendName;
        this.listener.fail(status.UNAVAILABLE, error.message, error.cause);
      } else {
        this.listener.onInvalidRoute(error);
      }
      return;
    }
    this.backend = backend;
    this.backendName = backend.name;
    if (this.options.backendConnectTimeoutMs > 0 && inTransientFailure(backend.channel)) {
      const notAfter = Math.min(this.callDeadline, +(route.callOptions?.deadline ?? Infinity));
      this.wait = new ConnectionWait(
        backend.channel,
        this.options.backendConnectTimeoutMs,
        notAfter,
        this,
      );
      this.wait.start();
    } else {
      this.listener.onOpenable(backend, undefined);
    }
  }

  /** The call ended meanwhile. */
  cancel(): void {
    this.wait?.cancel();
  }

  onBackendConnectable(expired: boolean): void {
    this.listener.onOpenable(this.backend!, expired ? this.wait!.limitMs : undefined);
  }

  onBackendNotConnected(state: connectivityState, atDeadline: boolean): void {
    const notConnected = `not connected within ${this.wait!.limitMs} ms`;
    const backendName = this.backend!.name;
    if (!atDeadline) {
      const details = `${notConnected} (channel ${connectivityState[state]})`;
      this.listener.onNotSent(`backend ${backendName} unavailable: ${details}`);
    } else if (this.callDeadline <= +(this.route.callOptions?.deadline ?? Infinity)) {
      // The client's own deadline ends the call as grpc-js's deadline timer does when it is first.
      this.listener.finish(deadlineExceededStatus(), false);
    } else {
      const details = `${notConnected}: Deadline exceeded`;
      this.listener.fail(status.DEADLINE_EXCEEDED, `backend ${backendName} failed: ${details}`);
    }
  }
}

/**
 * Opening the backend call on `backendName` threw `error`: grpc-js rejecting the route's call
 * options (a `TypeError`: a deadline that is no date, ...) is an invalid route; anything else
 * (e.g. "Channel has been shut down": a closed `Client` or `Channel`) makes it unavailable.
 */
export function failedOpening(
  listener: Pick<OpeningListener, 'fail' | 'onInvalidRoute'>,
  backendName: string,
  error: unknown,
): void {
  if (error instanceof TypeError) {
    listener.onInvalidRoute(error);
  } else {
    listener.fail(
      status.UNAVAILABLE,
      `backend ${backendName} unavailable: ${describeError(error)}`,
      error,
    );
  }
}
