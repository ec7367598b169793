import { constants, type ClientHttp2Stream } from 'node:http2';
import { status } from '@grpc/grpc-js';
import { grpcCodeOfHttpStatus, grpcCodeOfRstCode, rstCodeName } from './status-map';

/** How a call ends when its backend stream failed; the message names the backend. */
export interface StreamOutcome {
  readonly code: status;
  readonly details: string;
  /**
   * The backend did not process the request (a refused stream, which a stream beyond a GOAWAY's
   * last stream also gets, or a session that never connected) and answered nothing: the attempt
   * may be sent again.
   */
  readonly unprocessed: boolean;
}

function failed(code: status, name: string, what: string): StreamOutcome {
  const reason = code === status.UNAVAILABLE ? 'unavailable' : 'failed';
  return { code, details: `backend ${name} ${reason}: ${what}`, unprocessed: false };
}

/** The session a backend stream went on. */
export interface StreamSession {
  /** Why it failed before it connected, if it did: the request never reached a backend. */
  readonly connectFailure: Error | undefined;
  /** It is gone (closed by the backend, failed). */
  readonly sessionLost: boolean;
}

/**
 * A backend stream closed without its end: reset by the backend, its session lost, or its
 * session never connected. Only an unanswered stream may be unprocessed.
 */
export function closedStreamOutcome(
  stream: ClientHttp2Stream,
  error: Error | undefined,
  session: StreamSession,
  answered: boolean,
  name: string,
): StreamOutcome {
  const rstCode = stream.rstCode ?? constants.NGHTTP2_NO_ERROR;
  const connectFailure = session.connectFailure;
  if (!answered && connectFailure !== undefined) {
    return {
      code: status.UNAVAILABLE,
      details: `backend ${name} unavailable: ${connectFailure.message}`,
      unprocessed: true,
    };
  }
  const reset = `it reset the stream with ${rstCodeName(rstCode)}`;
  if (!answered && rstCode === constants.NGHTTP2_REFUSED_STREAM) {
    return { ...failed(status.UNAVAILABLE, name, reset), unprocessed: true };
  }
  if (error !== undefined && (error as { code?: string }).code !== 'ERR_HTTP2_STREAM_ERROR') {
    // The session failed once connected (lost, keepalive): Node wraps the reason as `cause`.
    // The request may have reached the backend: never sent again.
    const cause = error.cause as { message?: unknown } | undefined;
    return failed(
      status.UNAVAILABLE,
      name,
      typeof cause?.message === 'string' ? cause.message : error.message,
    );
  }
  if (error === undefined && session.sessionLost) {
    // Node closes the streams of a connection the backend closed with CANCEL, as if reset.
    return failed(status.UNAVAILABLE, name, 'the connection was closed');
  }
  if (rstCode === constants.NGHTTP2_NO_ERROR) {
    return failed(status.INTERNAL, name, 'it ended the stream without trailers');
  }
  return failed(grpcCodeOfRstCode(rstCode), name, reset);
}

/** The backend answered HTTP `httpStatus`, not gRPC: mapped by gRPC's HTTP status table. */
export function httpFailureOutcome(httpStatus: number, name: string): StreamOutcome {
  return failed(grpcCodeOfHttpStatus(httpStatus), name, `it answered HTTP ${httpStatus}, not gRPC`);
}
