import { status } from '@grpc/grpc-js';
import type {
  FanOut,
  FanOutBackend,
  FanOutErrorHandler,
  FanOutMember,
  ProxyCall,
  Route,
} from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import { checkFanOut, isThenable } from '@grpc-proxy/handler/engine';
import type { ComposedDirector, RouteTarget } from './route-target';
import { closeTarget, composeDirector, describeTarget } from './route-target';

/** How a fan-out's answers become the client's (see `FanOut` of `@grpc-proxy/handler`). */
export interface FanOutOptions {
  /**
   * `'stream'`: every backend's messages reach the client as they arrive, interleaved (server
   * streaming and bidi methods); `'merge'`: once every backend ended, their messages become one
   * (unary and client-streaming methods). Required: on the wire a unary call looks like a
   * server-streaming one, so only you know which the method is.
   */
  readonly responses: 'stream' | 'merge';
  /**
   * What a backend ending with a status other than `OK` does: `'first-error'` ends the call with
   * that status and cancels the others; `'skip'` leaves it out; a function turns it into a
   * message for the client (`null`: left out). Whatever the policy, when no backend ended `OK`
   * and no failure became a message, the call ends with the first failure's status.
   * Default: `'first-error'`.
   */
  readonly onError?: 'first-error' | 'skip' | FanOutErrorHandler;
  /**
   * `'merge'` mode: combines the responses (in the order of the backends; those that sent none
   * left out) into the one message the client gets. Default: their concatenation, which for
   * protobuf is a merge (repeated fields append; scalars: the last backend's non-default value).
   */
  readonly merge?: (responses: readonly Buffer[]) => Buffer;
  /**
   * Name in logs, metrics and `CallReport.backend`. Default: `fan-out(<names>)`, the backends'
   * names joined by commas, e.g. `fan-out(a,b,c)`.
   */
  readonly name?: string;
}

/** Picks the backends of one call; a promise is awaited. */
export type FanOutPicker = (
  call: ProxyCall,
) => readonly FanOutMember[] | Promise<readonly FanOutMember[]>;

/** A {@link FanOutBackend} made by {@link fanOutBackend}: it owns its backends. */
export interface OwnedFanOutBackend extends FanOutBackend {
  /** Closes every backend of the fan-out that can be closed. Idempotent. */
  close(): void;
}

/**
 * A fan-out as a route target: a `FanOutBackend` that sends each call to every one of
 * `backends`, usable wherever a backend is (`byService`, `byMetadata`, `roundRobin`, or a route
 * of your own director: `{ backend: fanOutBackend(...) }`).
 *
 * Owns its backends: `close()` (called by the helper it is given to) closes them.
 *
 * @param backends - at least one backend (a `createBackend` backend, a grpc-js `Client` or
 *   `Channel`, or an address for the http2 engine); no fan-out inside a fan-out
 * @param options - `responses` (required), `onError`, `merge`, `name`
 * @throws TypeError at creation when there is no backend, a backend is not one or is a fan-out,
 *   or an option is not one of its allowed values
 */
export function fanOutBackend(
  backends: readonly FanOutMember[],
  options: FanOutOptions,
): OwnedFanOutBackend {
  checkOptions(options);
  if (!Array.isArray(backends) || backends.length === 0) {
    throw new TypeError(`fanOut: needs a non-empty list of backends, got ${String(backends)}`);
  }
  const made = makeFanOut([...backends], options);
  let closed = false;
  // Not enumerable: routes stay plain data for engines and equality checks.
  Object.defineProperty(made, 'close', {
    value: () => {
      if (closed) return;
      closed = true;
      for (const backend of new Set(made.fanOut.backends)) closeTarget(backend as RouteTarget);
    },
  });
  return made as OwnedFanOutBackend;
}

/**
 * A director sending every call to several backends at once: to all of `backends`, or to those
 * `backends(call)` picks for each call. The engine sends every client message to each of them
 * (backpressure follows the slowest) and gives the client their answers by `options.responses`
 * and `options.onError` (see `FanOut` of `@grpc-proxy/handler`).
 *
 * - A list: one `FanOutBackend` shared by every call; the director is named as it is
 *   (`fan-out(a,b,c)` by default) and owns the backends: `close()` closes them.
 * - A function: asked once per call; the route's backend is named `options.name`, else
 *   `fan-out(<names of the picked backends>)`; the director (named `options.name` or
 *   `fan-out(<function name>)`) owns nothing. An empty pick ends the call `UNAVAILABLE`
 *   (`no backend to fan <method> out to`); a pick that is no list of backends throws a
 *   `TypeError` (the engine's invalid-route status).
 *
 * @throws TypeError at creation for an invalid list or option (as {@link fanOutBackend})
 */
export function fanOut(
  backends: readonly FanOutMember[] | FanOutPicker,
  options: FanOutOptions,
): ComposedDirector {
  if (typeof backends !== 'function') {
    const backend = fanOutBackend(backends, options);
    return composeDirector(backend.name, [backend as RouteTarget], () => ({ backend }));
  }
  checkOptions(options);
  const pick = backends;
  const name = options.name ?? `fan-out(${pick.name === '' ? 'picked' : pick.name})`;
  const direct = (call: ProxyCall): Route | Promise<Route> => {
    const picked = pick(call);
    return isThenable<readonly FanOutMember[]>(picked)
      ? Promise.resolve(picked).then((list) => pickedRoute(list, options, call))
      : pickedRoute(picked, options, call);
  };
  return composeDirector(name, [], direct);
}

function pickedRoute(
  picked: readonly FanOutMember[],
  options: FanOutOptions,
  call: ProxyCall,
): Route {
  if (Array.isArray(picked) && picked.length === 0) {
    throw new ProxyStatusError(status.UNAVAILABLE, `no backend to fan ${call.method} out to`);
  }
  if (!Array.isArray(picked)) {
    throw new TypeError(`fanOut: the picker returned ${String(picked)}, not a list of backends`);
  }
  return { backend: makeFanOut(picked, options) };
}

function makeFanOut(backends: readonly FanOutMember[], options: FanOutOptions): FanOutBackend {
  backends.forEach((member: unknown, index) => {
    if (member === null || typeof member !== 'object') {
      throw new TypeError(`fanOut: backend ${index} is ${String(member)}, not a backend`);
    }
  });
  const name = options.name ?? `fan-out(${backends.map(memberName).join(',')})`;
  const fanOut: FanOut = {
    backends,
    responses: options.responses,
    ...(options.onError === undefined ? {} : { onError: options.onError }),
    ...(options.merge === undefined ? {} : { merge: options.merge }),
  };
  const backend: FanOutBackend = { name, fanOut };
  checkFanOut(backend);
  return backend;
}

/** A member's name: its own, its channel's target, or its address (`{ target }`). */
function memberName(member: FanOutMember): string {
  const described = describeTarget(member as RouteTarget);
  const target = (member as { target?: unknown } | null)?.target;
  return described === 'backend' && typeof target === 'string' ? target : described;
}

/** The options' own checks; `checkFanOut` checks them again with the backends. */
function checkOptions(options: FanOutOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`fanOut: options must be an object with responses, got ${String(options)}`);
  }
  if (options.responses !== 'stream' && options.responses !== 'merge') {
    throw new TypeError(
      `fanOut: responses must be 'stream' or 'merge', got ${String(options.responses)}`,
    );
  }
  const onError = options.onError ?? 'first-error';
  if (onError !== 'first-error' && onError !== 'skip' && typeof onError !== 'function') {
    throw new TypeError(
      `fanOut: onError must be 'first-error', 'skip' or a function, got ${String(onError)}`,
    );
  }
  if (options.merge !== undefined && typeof options.merge !== 'function') {
    throw new TypeError('fanOut: merge must be a function');
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw new TypeError(`fanOut: name must be a non-empty string, got ${String(options.name)}`);
  }
}
