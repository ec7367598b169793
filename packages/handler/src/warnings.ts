import { describeError } from './status-error';

const WARNING_TYPE = 'GrpcProxyWarning';

/** Runs user code (an observer, `route.release`) whose exception must never fail a call. */
export function safely(what: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    process.emitWarning(`${what} threw: ${describeError(error)}`, WARNING_TYPE);
  }
}

/**
 * Reports an error the client only sees as a status message (a director bug, a route grpc-js
 * rejects) as a process warning, with its stack, so that its origin is not lost.
 */
export function warnUnexpected(what: string, error: unknown): void {
  const stack = error instanceof Error ? error.stack : undefined;
  process.emitWarning(`${what}: ${stack ?? describeError(error)}`, WARNING_TYPE);
}
