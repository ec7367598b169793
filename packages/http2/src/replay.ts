import type { ClientHttp2Stream } from 'node:http2';

/** 64 KiB: the most request bytes a call keeps (by reference) to send again after a refusal. */
export const REPLAY_LIMIT_BYTES = 64 * 1024;

/**
 * What the client sent before the backend answered, kept by reference so that a stream the
 * backend refused unprocessed (REFUSED_STREAM, or beyond a GOAWAY's last stream) can be sent
 * again. Given up past {@link REPLAY_LIMIT_BYTES}: such a call is not retried.
 */
export class Replay {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private ended = false;

  /** Keeps `chunk`; false once the request is too large to keep (the replay is then dropped). */
  record(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > REPLAY_LIMIT_BYTES) {
      this.chunks = [];
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  /** The client half-closed. */
  end(): void {
    this.ended = true;
  }

  /** Sends everything kept (and the half-close) on `stream`. */
  writeTo(stream: ClientHttp2Stream): void {
    for (const chunk of this.chunks) stream.write(chunk);
    if (this.ended) stream.end();
  }
}
