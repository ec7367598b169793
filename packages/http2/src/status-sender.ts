import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Metadata } from '@grpc/grpc-js';
import { statusTrailers } from './headers';

/*
 * Ends the client's stream with a status: as trailers after response headers already sent (they
 * follow the DATA already written), else as a trailers-only response. Does nothing once the
 * stream is closed (the client is gone). Functions over the stream, not an object per call: the
 * trailers wait on the stream itself for Node to ask for them.
 */

const TRAILERS = Symbol('trailers');

type SendingStream = ServerHttp2Stream & { [TRAILERS]?: OutgoingHttpHeaders };

/** The backend's own status: its trailers, or its whole trailers-only response. */
export function sendBackendStatus(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  trailersOnly: boolean,
): void {
  if (gone(stream)) return;
  if (trailersOnly) stream.respond(headers, { endStream: true });
  else sendTrailers(stream, headers as OutgoingHttpHeaders);
}

/** A status made by the proxy (or a director's rejection, with its `metadata` as trailers). */
export function sendStatus(
  stream: ServerHttp2Stream,
  code: number,
  details: string,
  metadata: Metadata | undefined,
): void {
  if (gone(stream)) return;
  const trailers = statusTrailers(code, details, metadata);
  if (stream.headersSent) {
    sendTrailers(stream, trailers);
    return;
  }
  trailers[constants.HTTP2_HEADER_STATUS] = constants.HTTP_STATUS_OK;
  trailers[constants.HTTP2_HEADER_CONTENT_TYPE] = 'application/grpc';
  stream.respond(trailers, { endStream: true });
}

function gone(stream: ServerHttp2Stream): boolean {
  return stream.closed || stream.destroyed;
}

function sendTrailers(stream: SendingStream, trailers: OutgoingHttpHeaders): void {
  stream[TRAILERS] = trailers;
  // Node asks for the trailers ('wantTrailers') once the DATA written so far is queued; the
  // response went with `waitForTrailers`, so it asks once ('on': no wrapper made per call).
  stream.on('wantTrailers', onWantTrailers);
  stream.end();
}

function onWantTrailers(this: SendingStream): void {
  this.sendTrailers(this[TRAILERS] ?? {});
}
