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

/**
 * The transparent retries of one call: the shared budget, and the attempt being retried. The
 * budget (a `Map` of the backends tried) is made at the first retry: a call that is never
 * retried, nearly every call, only remembers its first backend.
 */
export class CallRetries {
  private budget: TransparentRetries | undefined = undefined;
  /** The first attempt's backend, until the budget exists. */
  private first: RouteBackend | undefined = undefined;
  private retrying: UnprocessedAttempt | undefined = undefined;

  /** @param deadlineMs the call's deadline, epoch milliseconds (`Infinity`: none). */
  constructor(private readonly deadlineMs: number) {}

  /** Retries made so far. */
  get count(): number {
    return this.budget?.count ?? 0;
  }

  /** The budget refused the director's route: whether to ask the director again for another. */
  mayAskAgain(): boolean {
    return this.spent().mayAskAgain();
  }

  /** The attempt on `backend` found it unreachable after a connect wait: not tried again. */
  unreachable(backend: RouteBackend): void {
    this.spent().unreachable(backend);
  }

  /**
   * `attempt` was not processed: whether it may be retried (the request still kept, attempts and
   * time left); when so, the next route is its retry.
   */
  retry(attempt: UnprocessedAttempt, holdsRequest: boolean): boolean {
    if (!holdsRequest || !this.spent().mayRetry()) return false;
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
      if (!this.spent().mayRetryOn(backend)) return retrying;
      this.retrying = undefined;
    }
    if (this.budget === undefined && this.first === undefined) this.first = backend;
    else this.spent().attempted(backend);
    return undefined;
  }

  /** The budget, made on first need with the first attempt counted. */
  private spent(): TransparentRetries {
    if (this.budget === undefined) {
      this.budget = new TransparentRetries(this.deadlineMs);
      if (this.first !== undefined) this.budget.attempted(this.first);
    }
    return this.budget;
  }
}
