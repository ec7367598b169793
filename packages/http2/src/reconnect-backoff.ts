/** 100 ms: the wait before connecting again after a failed attempt (as grpc-js backend channels). */
export const INITIAL_RECONNECT_BACKOFF_MS = 100;
/** 500 ms: the longest wait between two attempts: a backend that is back is used within it. */
const MAX_RECONNECT_BACKOFF_MS = 500;

/** Thrown by `SessionPool.get` while a target is between connection attempts. */
export class ReconnectBackoff extends Error {
  override readonly name = 'ReconnectBackoff';

  constructor(
    /** When the next attempt may start (epoch ms). */
    readonly retryAt: number,
    /** Why the last attempt failed. */
    readonly lastError: Error,
  ) {
    super(`not connecting again before ${retryAt - Date.now()} ms: ${lastError.message}`);
  }
}

/**
 * Consecutive failed connection attempts (to one address, or to resolve a name), and when the
 * next may start.
 */
export interface Failures {
  readonly count: number;
  /** Epoch ms. */
  readonly retryAt: number;
  readonly lastError: Error;
}

/** 100, 200, 400, 500, 500... ms, each ± 20 % so that many proxies do not try in step. */
function backoffMs(failures: number): number {
  const base = Math.min(
    INITIAL_RECONNECT_BACKOFF_MS * 2 ** (failures - 1),
    MAX_RECONNECT_BACKOFF_MS,
  );
  return base * (0.8 + 0.4 * Math.random());
}

/** The failures after one more failed attempt, ended by `error`. */
export function oneMoreFailure(previous: Failures | undefined, error: Error): Failures {
  const count = (previous?.count ?? 0) + 1;
  return { count, retryAt: Date.now() + backoffMs(count), lastError: error };
}

/** Whether an attempt must wait: the last one failed less than the backoff ago. */
export function backingOff(failures: Failures | undefined, now: number): failures is Failures {
  return failures !== undefined && now < failures.retryAt;
}
