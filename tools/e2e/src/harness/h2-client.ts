import * as http2 from 'node:http2';
import type { Socket } from 'node:net';
import { connect as netConnect } from 'node:net';
import { MessageDecoder } from '@grpc-proxy/codec';

/** The headers a well-behaved gRPC client sends for `path`. */
export function grpcRequestHeaders(path: string): http2.OutgoingHttpHeaders {
  return {
    ':method': 'POST',
    ':path': path,
    ':scheme': 'http',
    'content-type': 'application/grpc',
    te: 'trailers',
  };
}

/** Everything a raw HTTP/2 client saw of one stream. */
export interface RawOutcome {
  /** Response headers (the only headers of a trailers-only response). */
  headers?: http2.IncomingHttpHeaders;
  trailers?: http2.IncomingHttpHeaders;
  /** Response DATA, concatenated. */
  data: Buffer;
  /** RST_STREAM code the stream closed with (0 = NO_ERROR, i.e. a normal end). */
  rstCode: number;
  /** A stream or session error, if any (e.g. a header block too large to send). */
  error?: string;
}

/** The gRPC status of a raw outcome: from trailers, or from the headers of a trailers-only reply. */
export function grpcStatusOf(outcome: RawOutcome): number | undefined {
  const value = outcome.trailers?.['grpc-status'] ?? outcome.headers?.['grpc-status'];
  return value === undefined ? undefined : Number(value);
}

/** The gRPC message of a raw outcome, percent-decoded. */
export function grpcMessageOf(outcome: RawOutcome): string | undefined {
  const value = outcome.trailers?.['grpc-message'] ?? outcome.headers?.['grpc-message'];
  return value === undefined ? undefined : decodeURIComponent(String(value));
}

/** The payloads of the gRPC messages in a raw outcome's DATA; throws if the framing is broken. */
export function messagesOf(outcome: RawOutcome): Buffer[] {
  const decoder = new MessageDecoder();
  const messages = decoder.push(outcome.data).map((message) => message.payload);
  decoder.end();
  return messages;
}

/**
 * A raw `node:http2` client session over a TCP socket the test owns, so the test can also
 * destroy the socket under the session (which `session.socket` forbids).
 */
export class RawH2Session {
  readonly session: http2.ClientHttp2Session;
  readonly socket: Socket;

  constructor(address: string, settings: http2.SecureClientSessionOptions = {}) {
    const [host, port] = splitAddress(address);
    this.socket = netConnect({ host, port });
    this.session = http2.connect(`http://${address}`, {
      ...settings,
      createConnection: () => this.socket,
    });
    this.session.on('error', () => undefined);
  }

  /**
   * Opens a stream with `headers`, hands it to `drive` (which writes, ends or resets it) and
   * resolves when the stream has closed, with everything seen.
   */
  request(
    headers: http2.OutgoingHttpHeaders,
    drive: (stream: http2.ClientHttp2Stream) => void,
  ): Promise<RawOutcome> {
    return new Promise((resolve) => {
      const chunks: Buffer[] = [];
      const outcome: RawOutcome = { data: Buffer.alloc(0), rstCode: 0 };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.session.request(headers);
      } catch (error) {
        resolve({ ...outcome, error: (error as Error).message });
        return;
      }
      stream.on('response', (value) => (outcome.headers = value));
      stream.on('trailers', (value) => (outcome.trailers = value));
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      // The response is complete while this side may still be open (the server answered early,
      // e.g. a rejected message): close it the way gRPC clients do, with RST_STREAM(NO_ERROR).
      stream.on('end', () => {
        if (!stream.writableFinished) stream.close(http2.constants.NGHTTP2_NO_ERROR);
      });
      stream.on('error', (error: Error) => (outcome.error = error.message));
      stream.on('close', () => {
        resolve({
          ...outcome,
          data: Buffer.concat(chunks),
          rstCode: stream.rstCode ?? 0,
        });
      });
      drive(stream);
    });
  }

  /** Closes the session (and the socket). */
  close(): Promise<void> {
    if (this.session.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.session.close(() => resolve());
      // A session whose peer has stopped answering would otherwise keep the close pending.
      setTimeout(() => this.session.destroy(), 1000).unref();
    });
  }
}

/** Splits `host:port` (`[v6]:port` too). */
export function splitAddress(address: string): [string, number] {
  const index = address.lastIndexOf(':');
  return [address.slice(0, index).replace(/^\[|\]$/g, ''), Number(address.slice(index + 1))];
}

/**
 * One unary gRPC call on a raw session, as cheaply as `node:http2` allows (no grpc-js client
 * machinery), for load cases where the client must not be the bottleneck. Resolves with the
 * gRPC status and the raw response body (framed messages).
 */
export function rawUnary(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Buffer,
): Promise<{ code: number | undefined; body: Buffer }> {
  return new Promise((resolve) => {
    const stream = session.request(headers);
    const chunks: Buffer[] = [];
    let code: number | undefined;
    stream.on('response', (value) => {
      if (value['grpc-status'] !== undefined) code = Number(value['grpc-status']);
    });
    stream.on('trailers', (value) => (code = Number(value['grpc-status'])));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined);
    stream.on('close', () => resolve({ code, body: Buffer.concat(chunks) }));
    stream.end(body);
  });
}
