import {
  constants,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Metadata } from '@grpc/grpc-js';
import { statusTrailers } from './headers';

/**
 * Ends the client's stream with a status: as trailers after response headers already sent (they
 * follow the DATA already written), else as a trailers-only response. Does nothing once the
 * stream is closed (the client is gone).
 */
export class StatusSender {
  private trailers: OutgoingHttpHeaders = {};

  constructor(private readonly stream: ServerHttp2Stream) {
    stream.on('wantTrailers', this.onWantTrailers);
  }

  /** The backend's own status: its trailers, or its whole trailers-only response. */
  sendBackendStatus(headers: IncomingHttpHeaders, trailersOnly: boolean): void {
    if (this.gone()) return;
    if (trailersOnly) this.stream.respond(headers, { endStream: true });
    else this.sendTrailers(headers as OutgoingHttpHeaders);
  }

  /** A status made by the proxy (or a director's rejection, with its `metadata` as trailers). */
  sendStatus(code: number, details: string, metadata: Metadata | undefined): void {
    if (this.gone()) return;
    const trailers = statusTrailers(code, details, metadata);
    if (this.stream.headersSent) {
      this.sendTrailers(trailers);
      return;
    }
    trailers[constants.HTTP2_HEADER_STATUS] = constants.HTTP_STATUS_OK;
    trailers[constants.HTTP2_HEADER_CONTENT_TYPE] = 'application/grpc';
    this.stream.respond(trailers, { endStream: true });
  }

  private gone(): boolean {
    return this.stream.closed || this.stream.destroyed;
  }

  private sendTrailers(trailers: OutgoingHttpHeaders): void {
    this.trailers = trailers;
    // Node asks for the trailers ('wantTrailers') once the DATA written so far is queued.
    this.stream.end();
  }

  private readonly onWantTrailers = (): void => {
    this.stream.sendTrailers(this.trailers);
  };
}
