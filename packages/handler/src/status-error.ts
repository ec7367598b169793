import { Metadata, type status, type StatusObject } from '@grpc/grpc-js';

/**
 * An error that carries a gRPC status. Thrown by a director (or anything it calls), it ends the
 * call with exactly this code, message and trailing metadata.
 */
export class ProxyStatusError extends Error {
  override readonly name = 'ProxyStatusError';
  /** The gRPC status code the client receives. */
  readonly code: status;
  /** The status message the client receives (same as `message`). */
  readonly details: string;
  /** Trailing metadata sent with the status. Default: none. */
  readonly metadata?: Metadata;

  /**
   * @param code the status code the client receives.
   * @param details the status message the client receives.
   * @param metadata trailing metadata sent with the status. Default: none.
   * @param options `cause`: the error behind this status, kept for logs (never sent). Default: none.
   */
  constructor(code: status, details: string, metadata?: Metadata, options?: ErrorOptions) {
    super(details, options);
    this.code = code;
    this.details = details;
    this.metadata = metadata;
  }
}

/**
 * Whether `error` carries a gRPC status a director may reject with: a `code` that is an integer
 * from 1 (`CANCELLED`) to 16 (`UNAUTHENTICATED`). A `ProxyStatusError`, a grpc-js `ServiceError`
 * or a plain `{ code, details }` object all qualify.
 */
export function isStatusError(
  error: unknown,
): error is { code: status; details?: unknown; message?: unknown; metadata?: unknown } {
  if (error === null || typeof error !== 'object') return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 1 && code <= 16;
}

/**
 * The status a director's rejection gives the client: its exact code, its `details` (or
 * `message`), and its `metadata` as trailers. `null` when `error` carries no status.
 */
export function directorRejection(error: unknown): StatusObject | null {
  if (!isStatusError(error)) return null;
  const details =
    typeof error.details === 'string'
      ? error.details
      : typeof error.message === 'string'
        ? error.message
        : '';
  const metadata = error.metadata instanceof Metadata ? error.metadata : new Metadata();
  return { code: error.code, details, metadata };
}

/** A one-line description of anything thrown: an `Error`'s message, else `String(error)`. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
