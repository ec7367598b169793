import { Metadata, status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';

/** What a director's refusal of a call leads to, in the form {@link rejectionSeen} gives. */
export interface DirectorRejectionOutcome {
  /** The status code the client gets. */
  code: status;
  /** The status message the client gets. */
  details: string;
  /**
   * Every `x-` trailer the client gets, key to values (the transport's own, such as
   * `content-type` and `date` in a trailers-only response, differ between servers).
   */
  trailers: Record<string, unknown[]>;
  /** What the proxy's observer reports for the call (`CallReport` fields). */
  report: { code: status; proxyError: boolean; backend?: string; error?: unknown };
  /** The process warnings emitted during the call, as strings. */
  warnings: string[];
}

/** One way a director refuses a call, and the exact outcome of it. */
export interface DirectorRejectionCase {
  /** What the director does, in a few words (a test name). */
  readonly name: string;
  /** The director: throws, rejects or resolves without a route. Ignores its argument. */
  readonly director: () => unknown;
  /** The outcome of a call to `method` (`/package.Service/Method`) under {@link director}. */
  expected(method: string): DirectorRejectionOutcome;
}

/** A status error shaped as grpc-js's `ServiceError`: `code`, `details` and `metadata` (trailers). */
class ServiceStatusError extends Error {
  constructor(
    readonly code: status,
    readonly details: string,
    readonly metadata: Metadata,
  ) {
    super(details);
  }
}

/**
 * The ways a director may refuse a call, with what the `@grpc-proxy` engines answer to each: a
 * status error's code, message and trailers exactly (no warning); a rejected plain
 * `{ code, details }` object as it is; any other error as `INTERNAL`
 * `grpc-proxy: director failed: <message>` with a warning giving its stack; no route as
 * `INTERNAL` `grpc-proxy: director returned no route (undefined)`. In every case the observer
 * reports a proxy error with no backend and the director's error (or `undefined`), and no backend
 * sees a call. Fresh errors on every call of this function; each case is meant for one test.
 *
 * @param StatusError the class of the status error the first case throws (constructed with code,
 *   message and trailers), e.g. your proxy's own. Default: an `Error` with `code`, `details` and
 *   `metadata`, as grpc-js's `ServiceError`.
 */
export function directorRejectionCases(
  StatusError: new (
    code: status,
    details: string,
    trailers: Metadata,
  ) => unknown = ServiceStatusError,
): DirectorRejectionCase[] {
  const trailers = new Metadata();
  trailers.set('x-why', 'no-route');
  const rejection = new StatusError(status.PERMISSION_DENIED, 'not for you: ünïcode %20', trailers);
  const quota = { code: status.RESOURCE_EXHAUSTED, details: 'quota' };
  const boom = new Error('boom');
  const failed = (
    code: status,
    details: string,
    error: unknown,
    extra: Partial<DirectorRejectionOutcome> = {},
  ): DirectorRejectionOutcome => ({
    code,
    details,
    trailers: {},
    report: { code, proxyError: true, backend: undefined, error },
    warnings: [],
    ...extra,
  });
  return [
    {
      name: 'a thrown status error: exactly its code, message and trailers',
      director: () => {
        throw rejection;
      },
      expected: () =>
        failed(status.PERMISSION_DENIED, 'not for you: ünïcode %20', rejection, {
          trailers: { 'x-why': ['no-route'] },
        }),
    },
    {
      name: 'a rejected plain object carrying a status code: that status',
      director: () => Promise.reject(quota),
      expected: () => failed(status.RESOURCE_EXHAUSTED, 'quota', quota),
    },
    {
      name: 'any other error: INTERNAL naming the proxy, kept for the observer and a warning',
      director: () => Promise.reject(boom),
      expected: (method) =>
        failed(status.INTERNAL, 'grpc-proxy: director failed: boom', boom, {
          warnings: [`grpc-proxy: director failed on ${method}: ${boom.stack}`],
        }),
    },
    {
      name: 'no route: INTERNAL naming the proxy',
      director: () => undefined,
      expected: () =>
        failed(status.INTERNAL, 'grpc-proxy: director returned no route (undefined)', undefined),
    },
  ];
}

/**
 * What a test saw of a refused call, in the form of {@link DirectorRejectionOutcome}: compare it
 * with `expected(method)` (and the report's error by identity, which a deep comparison of the
 * two objects does not do).
 */
export function rejectionSeen(
  final: StatusObject,
  report: DirectorRejectionOutcome['report'],
  warnings: readonly string[],
): DirectorRejectionOutcome {
  const { code, proxyError, backend, error } = report;
  return {
    code: final.code,
    details: final.details,
    trailers: Object.fromEntries(
      Object.entries(final.metadata.toJSON()).filter(([key]) => key.startsWith('x-')),
    ),
    report: { code, proxyError, backend, error },
    warnings: [...warnings],
  };
}
