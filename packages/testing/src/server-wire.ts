/**
 * What the echo server does on the wire, under grpc-js: it keeps the HTTP/2 streams open on its
 * port, and gzips responses. grpc-js servers never compress what they send (the compressed flag
 * is always 0), so the kit compresses on the wire: for a call that asks for it, each response
 * message grpc-js writes is gzip-compressed on its way into the HTTP/2 stream, and the response
 * headers say `grpc-encoding: gzip`.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { gzipFrame } from './grpc-frames';
import { headerValue, onServerStreams } from './http2-taps';

/**
 * Request metadata key asking the echo server to gzip its response messages: value `gzip`. The
 * server does so only when the request's `grpc-accept-encoding` lists `gzip`, as gRPC requires.
 */
export const RESPONSE_ENCODING_KEY = 'x-echo-response-encoding';

/** Whether a `grpc-accept-encoding` value lists `encoding`. */
function accepts(acceptEncoding: string | undefined, encoding: string): boolean {
  return (acceptEncoding ?? '').split(',').some((item) => item.trim() === encoding);
}

/** Makes `stream` gzip every message grpc-js writes to it, and say so in its headers. */
function gzipResponses(stream: ServerHttp2Stream): void {
  const respond = stream.respond.bind(stream);
  stream.respond = (headers, options) =>
    // A trailers-only response carries no message: its headers stay as they are.
    respond(options?.endStream ? headers : { ...headers, 'grpc-encoding': 'gzip' }, options);
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  // grpc-js writes each framed message with one write call; anything else passes unchanged.
  stream.write = ((chunk: unknown, ...rest: unknown[]) =>
    write(
      Buffer.isBuffer(chunk) ? (gzipFrame(chunk) ?? chunk) : chunk,
      ...rest,
    )) as typeof stream.write;
}

/** An HTTP/2 stream open on an echo server. */
export interface OpenStream {
  /** Its `:path`, the method called. */
  readonly method: string;
  /** Its request headers. */
  readonly headers: IncomingHttpHeaders;
}

/** The wire side of an echo server on a local port. */
export interface ServerWire {
  /** The HTTP/2 streams open on the port now, oldest first. */
  openStreams(): OpenStream[];
  stop(): void;
}

/**
 * Watches the HTTP/2 streams of the server on local `port`: keeps the open ones, and gzips the
 * responses of every call that asks for it (see {@link RESPONSE_ENCODING_KEY}).
 */
export function watchServerWire(port: number): ServerWire {
  const open = new Map<ServerHttp2Stream, OpenStream>();
  const stop = onServerStreams((stream, headers) => {
    if (stream.session?.socket.localPort !== port) return;
    open.set(stream, { method: headerValue(headers, ':path') ?? '', headers });
    stream.once('close', () => open.delete(stream));
    if (headerValue(headers, RESPONSE_ENCODING_KEY) !== 'gzip') return;
    if (!accepts(headerValue(headers, 'grpc-accept-encoding'), 'gzip')) return;
    gzipResponses(stream);
  });
  return { openStreams: () => [...open.values()], stop };
}
