import { status, type Metadata } from '@grpc/grpc-js';
import type { ProxyCall, Route, StreamDirector } from '@grpc-proxy/handler';
import {
  describeError,
  directorRejection,
  isThenable,
  warnUnexpected,
} from '@grpc-proxy/handler/engine';

/**
 * Asks `director` for the route of `call`: the route goes to `onRoute`, anything thrown or
 * rejected to `onError`; synchronously when the director answers synchronously.
 *
 * @returns whether the answer is still pending (the director returned a thenable): only then
 *   does the caller need a timer for the director's time limit.
 */
export function askDirector(
  director: StreamDirector,
  call: ProxyCall,
  onRoute: (route: Route) => void,
  onError: (error: unknown) => void,
): boolean {
  let result: Route | PromiseLike<Route>;
  try {
    result = director(call);
  } catch (error) {
    onError(error);
    return false;
  }
  if (isThenable<Route>(result)) {
    result.then(onRoute, onError);
    return true;
  }
  onRoute(result);
  return false;
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
