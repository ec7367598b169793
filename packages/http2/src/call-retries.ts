import { Metadata, status, type StatusObject } from '@grpc/grpc-js';
import type { Backend, RouteBackend } from '@grpc-proxy/handler';
import { TransparentRetries } from '@grpc-proxy/handler/engine';

/** An attempt no backend processed: its `UNAVAILABLE` message (without the proxy's prefix). */
export interface UnprocessedAttempt {
  readonly details: string;
  readonly error: unknown;
}

/**
 * Why a route's backend may not be tried at all (passive health: out of rotation, or closed),
 * as an unprocessed attempt; `undefined` when it may.
 */
export function unavailableBackend(
  backend: RouteBackend,
  name: string,
): UnprocessedAttempt | undefined {
  const candidate = backend as Partial<Backend>;
  if (typeof candidate.isAvailable !== 'function' || candidate.isAvailable() !== false) {
    return undefined;
  }
  const error = candidate.connectionError;
  return {
    details: `backend ${name} unavailable: ${error?.message ?? 'out of rotation'}`,
    error,
  };
}

/** The status an unprocessed attempt's route is released with. */
export function attemptStatus(proxyName: string, attempt: UnprocessedAttempt): StatusObject {
  return {
    code: status.UNAVAILABLE,
    details: `${proxyName}: ${attempt.details}`,
    metadata: new Metadata(),
  };
}

/** The transparent retries of one call: the shared budget, and the attempt being retried. */
export class CallRetries {
  private readonly budget: TransparentRetries;
  private retrying: UnprocessedAttempt | undefined = undefined;

  /** @param deadlineMs the call's deadline, epoch milliseconds (`Infinity`: none). */
  constructor(deadlineMs: number) {
    this.budget = new TransparentRetries(deadlineMs);
  }

  /** Retries made so far. */
  get count(): number {
    return this.budget.count;
  }

  /** The budget refused the director's route: whether to ask the director again for another. */
  mayAskAgain(): boolean {
    return this.budget.mayAskAgain();
  }

  /** The attempt on `backend` found it unreachable after a connect wait: not tried again. */
  unreachable(backend: RouteBackend): void {
    this.budget.unreachable(backend);
  }

  /**
   * `attempt` was not processed: whether it may be retried (the request still kept, attempts and
   * time left); when so, the next route is its retry.
   */
  retry(attempt: UnprocessedAttempt, holdsRequest: boolean): boolean {
    if (!holdsRequest || !this.budget.mayRetry()) return false;
    this.retrying = attempt;
    return true;
  }

  /**
   * A route to `backend` arrived: `undefined` when it may be tried (the attempt is counted), else
   * the attempt it was to retry, which the call ends with (the budget refuses this backend).
   */
  admit(backend: RouteBackend): UnprocessedAttempt | undefined {
    const retrying = this.retrying;
    if (retrying !== undefined) {
      if (!this.budget.mayRetryOn(backend)) return retrying;
      this.retrying = undefined;
    }
    this.budget.attempted(backend);
    return undefined;
  }
}
