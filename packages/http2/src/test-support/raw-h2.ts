/**
 * Raw HTTP/2 peers for the cases a grpc-js peer cannot produce: a backend that resets streams or
 * answers non-gRPC HTTP, and a client that sends non-gRPC requests.
 */
import {
  connect,
  constants,
  createServer,
  type ClientHttp2Session,
  type Http2Server,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
  type Settings,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { encodeMessage } from '@grpc-proxy/codec';

/** A raw HTTP/2 server on 127.0.0.1:0 answering every stream with `answer`. */
export interface RawBackend {
  readonly target: string;
  /** Streams the backend saw, with how each ended (its rstCode once closed). */
  readonly streams: ServerHttp2Stream[];
  /** Stops accepting connections: the port is free at once (the open connections stay). */
  unlisten(): void;
  /** Destroys every open connection (as a backend process that died). */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startRawBackend(
  answer: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void,
  settings: Settings = {},
  port = 0,
): Promise<RawBackend> {
  const server: Http2Server = createServer({ settings });
  const streams: ServerHttp2Stream[] = [];
  const sessions = new Set<import('node:http2').Http2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    streams.push(stream);
    stream.on('error', () => undefined);
    answer(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    target: `127.0.0.1:${bound}`,
    streams,
    unlisten: () => server.close(),
    dropConnections: () => {
      for (const session of sessions) session.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const session of sessions) session.destroy();
        if (server.listening) server.close(() => resolve());
        else resolve();
      }),
  };
}

/** What a raw request got back. */
export interface RawAnswer {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders | undefined;
  readonly rstCode: number;
}

/** Sends one request with `headers` (and `body`) on `session`; resolves once the stream closed. */
export function rawRequest(
  session: ClientHttp2Session,
  headers: OutgoingHttpHeaders,
  body?: Buffer,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const request = session.request(headers, { endStream: body === undefined });
    let answer: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    request.on('response', (h) => (answer = h));
    request.on('trailers', (t) => (trailers = t));
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('error', () => undefined);
    request.on('close', () =>
      resolve({
        headers: answer,
        body: Buffer.concat(chunks),
        trailers,
        rstCode: request.rstCode ?? constants.NGHTTP2_NO_ERROR,
      }),
    );
    if (body !== undefined) request.end(body);
  });
}

/** A raw HTTP/2 client session to `address`; destroy it in afterEach. */
export function rawSession(address: string): ClientHttp2Session {
  const session = connect(`http://${address}`);
  session.on('error', () => undefined);
  return session;
}

/**
 * Answers `stream` as a gRPC backend: headers, `payload` as one message, then trailers with
 * status OK; `afterTrailers` runs once they are sent.
 */
export function answerGrpc(
  stream: ServerHttp2Stream,
  payload: Uint8Array,
  afterTrailers: () => void = () => undefined,
): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => {
    stream.sendTrailers({ 'grpc-status': '0' });
    afterTrailers();
  });
  stream.end(encodeMessage(payload));
}

/** An `answer` of {@link startRawBackend}: once the client half-closed, `name` as one message. */
export function answerWith(name: string): (stream: ServerHttp2Stream) => void {
  return (stream) => {
    stream.resume();
    stream.on('end', () => answerGrpc(stream, Buffer.from(name)));
  };
}

/**
 * An `answer` of {@link startRawBackend}: once the client half-closed, pushes the whole request
 * body (as the bytes arrived, prefixes included) to `bodies` and answers `payload` as one message.
 */
export function recordBodies(
  bodies: Buffer[],
  payload: Uint8Array,
): (stream: ServerHttp2Stream) => void {
  return (stream) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      answerGrpc(stream, payload);
    });
  };
}
