import type { RouteBackend } from './contracts';

/**
 * 64 KiB: the most request bytes a call keeps (by reference) so that an attempt a backend did not
 * process can be sent again. A call that sent more before the backend answered is not retried.
 */
export const TRANSPARENT_RETRY_BUFFER_BYTES = 64 * 1024;

/** 5: the most attempts one call makes, the first included. */
export const MAX_CALL_ATTEMPTS = 5;

/**
 * The transparent retry budget of one call. An attempt that no backend processed (refused
 * stream, stream beyond a GOAWAY, connection failed before the request was written, backend out
 * of rotation) may be sent again — the director is asked again for the route — while:
 * - no response byte has reached the client and the request is still held (the engine checks);
 * - the call's deadline has not passed;
 * - the new route's backend has been tried at most once on this call (a second try on the same
 *   backend goes on a new connection: what a restarting backend needs), and was not found
 *   unreachable after a connect wait;
 * - fewer than {@link MAX_CALL_ATTEMPTS} attempts were made.
 */
export class TransparentRetries {
  /** Retries made so far (what `CallReport.retries` reports). */
  count = 0;
  /** Routes the budget refused, for which the director was asked again. */
  private refusedRoutes = 0;
  private readonly tried = new Map<RouteBackend, number>();

  /** @param deadlineMs the call's deadline, epoch milliseconds (`Infinity`: none). */
  constructor(private readonly deadlineMs: number) {}

  /** Records an attempt on `backend` (the first included). */
  attempted(backend: RouteBackend): void {
    this.tried.set(backend, (this.tried.get(backend) ?? 0) + 1);
  }

  /**
   * The attempt on `backend` found it unreachable after waiting for a connection: no further
   * attempt on it in this call (a second one would wait for the same failure).
   */
  unreachable(backend: RouteBackend): void {
    this.tried.set(backend, 2);
  }

  /** Whether another attempt may be made at all (attempts left, deadline not passed). */
  mayRetry(): boolean {
    return this.count + 1 < MAX_CALL_ATTEMPTS && Date.now() < this.deadlineMs;
  }

  /**
   * The director gave a backend {@link mayRetryOn} refuses (tried enough): whether to ask it again
   * for another — a rotating director shared by many calls may give the same one twice in a row.
   * At most {@link MAX_CALL_ATTEMPTS} such asks per call, within the deadline.
   */
  mayAskAgain(): boolean {
    this.refusedRoutes++;
    return this.refusedRoutes < MAX_CALL_ATTEMPTS && this.mayRetry();
  }

  /**
   * Whether the retry may go to `backend` (the backend of the route the director gave for it);
   * counts the retry when it may.
   */
  mayRetryOn(backend: RouteBackend): boolean {
    if (!this.mayRetry() || (this.tried.get(backend) ?? 0) >= 2) return false;
    this.count++;
    return true;
  }
}
