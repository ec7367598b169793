/**
 * Fan-out routes (`FanOutBackend`, see ./contracts.ts): recognising one, and checking it before a
 * call is sent anywhere. Engine-neutral: both engines and the director package use it.
 */
import type { FanOut, FanOutBackend, FanOutMember, RouteBackend } from './contracts';

/** True for a {@link FanOutBackend}: an object whose `fanOut` is an object. */
export function isFanOutBackend(
  backend: RouteBackend | null | undefined,
): backend is FanOutBackend {
  if (backend === null || typeof backend !== 'object') return false;
  const fanOut = (backend as Partial<FanOutBackend>).fanOut;
  return fanOut !== null && typeof fanOut === 'object';
}

/**
 * Checks `backend.fanOut` and returns it with `onError` defaulted: at least one backend, none a
 * fan-out itself, `responses` `'stream'` or `'merge'`, `onError` a policy name or a function,
 * `merge` a function when given. Throws a `TypeError` saying what is wrong (an invalid route).
 */
export function checkFanOut(backend: FanOutBackend): Required<Omit<FanOut, 'merge'>> & FanOut {
  const fanOut = backend.fanOut;
  const where = `fan-out ${String(backend.name)}`;
  const backends = fanOut.backends as readonly FanOutMember[] | undefined;
  if (!Array.isArray(backends) || backends.length === 0) {
    throw new TypeError(`${where} needs at least one backend`);
  }
  backends.forEach((member: unknown, index) => {
    if (member === null || typeof member !== 'object') {
      throw new TypeError(`${where}: backend ${index} is ${String(member)}, not a backend`);
    }
    if (isFanOutBackend(member as RouteBackend)) {
      throw new TypeError(`${where}: backend ${index} is a fan-out; fan-outs do not nest`);
    }
  });
  if (fanOut.responses !== 'stream' && fanOut.responses !== 'merge') {
    throw new TypeError(
      `${where}: responses must be 'stream' or 'merge', got ${String(fanOut.responses)}`,
    );
  }
  const onError = fanOut.onError ?? 'first-error';
  if (onError !== 'first-error' && onError !== 'skip' && typeof onError !== 'function') {
    throw new TypeError(
      `${where}: onError must be 'first-error', 'skip' or a function, got ${String(onError)}`,
    );
  }
  if (fanOut.merge !== undefined && typeof fanOut.merge !== 'function') {
    throw new TypeError(`${where}: merge must be a function`);
  }
  return { backends, responses: fanOut.responses, onError, merge: fanOut.merge };
}
