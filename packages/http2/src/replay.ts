import type { ClientHttp2Stream } from 'node:http2';
import { TRANSPARENT_RETRY_BUFFER_BYTES } from '@grpc-proxy/handler/engine';

/**
 * What the client sent before the backend answered, kept by reference so that an attempt no
 * backend processed (refused stream, stream beyond a GOAWAY, connection that failed first) can
 * be sent again. Given up past `TRANSPARENT_RETRY_BUFFER_BYTES` (64 KiB): such a call is not
 * retried.
 */
export class Replay {
  /** The first chunk, and the others: a request of one chunk (most) needs no array. */
  private first: Buffer | undefined = undefined;
  private rest: Buffer[] | undefined = undefined;
  private bytes = 0;
  private ended = false;

  /** Keeps `chunk`; false once the request is too large to keep (the replay is then dropped). */
  record(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > TRANSPARENT_RETRY_BUFFER_BYTES) {
      this.first = this.rest = undefined;
      return false;
    }
    if (this.first === undefined) this.first = chunk;
    else (this.rest ??= []).push(chunk);
    return true;
  }

  /** The client half-closed. */
  end(): void {
    this.ended = true;
  }

  /** Sends everything kept (and the half-close) on `stream`. */
  writeTo(stream: ClientHttp2Stream): void {
    if (this.first !== undefined) stream.write(this.first);
    for (const chunk of this.rest ?? []) stream.write(chunk);
    if (this.ended) stream.end();
  }
}
