/**
 * Asking the director for a route (the `choosing` phase of a proxied call, see
 * ./proxied-call.ts), with the `directorTimeoutMs` bound on a director that answers later.
 */
import type { ProxyCall, Route, StreamDirector } from './contracts';
import { isThenable } from './thenable';

/** What the call hears of the director; each question is answered once, by one of these. */
export interface DirectorAnswers {
  onRoute(route: Route): void;
  onDirectorError(error: unknown): void;
  onDirectorTimeout(): void;
}

/** Asks `director` about one call, as many times as the call needs (retries), one at a time. */
export class DirectorQuestion {
  private timer: NodeJS.Timeout | undefined = undefined;

  constructor(
    private readonly director: StreamDirector,
    private readonly call: ProxyCall,
    /** Milliseconds; `Infinity` when the call's deadline is the only limit. */
    private readonly timeoutMs: number,
    private readonly answers: DirectorAnswers,
  ) {}

  /** Asks; a director that answers at once is heard before this returns. */
  ask(): void {
    let result: Route | PromiseLike<Route>;
    try {
      result = this.director(this.call);
    } catch (error) {
      this.answers.onDirectorError(error);
      return;
    }
    if (isThenable<Route>(result)) {
      if (this.timeoutMs !== Infinity) this.timer = setTimeout(this.onTimeout, this.timeoutMs);
      result.then(this.onRoute, this.onError);
    } else {
      this.answers.onRoute(result);
    }
  }

  /** The answer is no longer awaited (the call ended): its timer stops. */
  clear(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private readonly onRoute = (route: Route): void => {
    this.clear();
    this.answers.onRoute(route);
  };

  private readonly onError = (error: unknown): void => {
    this.clear();
    this.answers.onDirectorError(error);
  };

  private readonly onTimeout = (): void => {
    this.timer = undefined;
    this.answers.onDirectorTimeout();
  };
}
