import type { Metadata } from '@grpc/grpc-js';

/**
 * An error that carries a gRPC status. Thrown by a director (or anything it calls), it ends the
 * call with exactly this code, message and trailing metadata.
 */
export class ProxyStatusError extends Error {
  /** The gRPC status code the client receives. */
  readonly code: number;
  /** The status message the client receives (same as `message`). */
  readonly details: string;
  /** Optional trailing metadata sent with the status. */
  readonly metadata?: Metadata;

  constructor(code: number, details: string, metadata?: Metadata) {
    super(details);
    this.name = 'ProxyStatusError';
    this.code = code;
    this.details = details;
    this.metadata = metadata;
  }
}
