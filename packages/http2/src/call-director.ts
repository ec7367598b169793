import { status, type Metadata } from '@grpc/grpc-js';
import type { ProxyCall, Route, StreamDirector } from '@grpc-proxy/handler';
import {
  describeError,
  directorRejection,
  isThenable,
  warnUnexpected,
} from '@grpc-proxy/handler/engine';

/** Hears the director's answer. */
export interface DirectorListener {
  /** The route the director gave (not yet checked). */
  routeChosen(route: Route): void;
  /** What the director threw or rejected with. */
  directorFailed(error: unknown): void;
  /** The director's time limit passed first (see {@link directorTimer}). */
  directorTimedOut(): void;
}

/**
 * Asks `director` for the route of `call`: the route goes to `listener.routeChosen`, anything
 * thrown or rejected to `listener.directorFailed`; synchronously when the director answers
 * synchronously (closures are made only for a thenable).
 *
 * @returns whether the answer is still pending (the director returned a thenable): only then
 *   does the caller need a timer for the director's time limit.
 */
export function askDirector(
  director: StreamDirector,
  call: ProxyCall,
  listener: DirectorListener,
): boolean {
  let result: Route | PromiseLike<Route>;
  try {
    result = director(call);
  } catch (error) {
    listener.directorFailed(error);
    return false;
  }
  if (isThenable<Route>(result)) {
    result.then(
      (route) => listener.routeChosen(route),
      (error: unknown) => listener.directorFailed(error),
    );
    return true;
  }
  listener.routeChosen(result);
  return false;
}

function timeOut(listener: DirectorListener): void {
  listener.directorTimedOut();
}

/** A timer telling `listener` that the director's `limitMs` passed (no closure per call). */
export function directorTimer(listener: DirectorListener, limitMs: number): NodeJS.Timeout {
  return setTimeout(timeOut, limitMs, listener);
}

/** How a director's error ends the call. */
export interface DirectorFailure {
  readonly code: status;
  readonly details: string;
  readonly metadata: Metadata | undefined;
  /** A failure of the proxy itself: the message gets the proxy's prefix. */
  readonly proxyFailure: boolean;
}

/**
 * A status the director threw (`ProxyStatusError`) is the client's as it is; anything else is a
 * director bug: `INTERNAL` `director failed: <message>`, warned with its stack.
 */
export function directorFailure(
  error: unknown,
  proxyName: string,
  method: string,
): DirectorFailure {
  const rejection = directorRejection(error);
  if (rejection !== null) return { ...rejection, proxyFailure: false };
  warnUnexpected(`${proxyName}: director failed on ${method}`, error);
  return {
    code: status.INTERNAL,
    details: `director failed: ${describeError(error)}`,
    metadata: undefined,
    proxyFailure: true,
  };
}

/** `director returned an invalid route: <why>`, warned with its stack. */
export function invalidRouteDetails(error: unknown, proxyName: string, method: string): string {
  warnUnexpected(`${proxyName}: director returned an invalid route for ${method}`, error);
  return `director returned an invalid route: ${describeError(error)}`;
}
