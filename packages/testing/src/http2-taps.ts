/**
 * Taps on every HTTP/2 stream of the process, through node:http2's diagnostics channels (Node.js
 * 22 and later publish them). The kit uses them to see and shape what grpc-js does not expose:
 * compressed flags, `grpc-encoding`, the bytes of a message as they crossed the wire.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type {
  ClientHttp2Stream,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Stream,
} from 'node:http2';

/** Published when a server stream gets its request headers, before the server sees it. */
const SERVER_STREAM_START = 'http2.server.stream.start';
/** Published when a client stream sends its request headers. */
const CLIENT_STREAM_START = 'http2.client.stream.start';

function tap<Stream, Headers>(
  channel: string,
  listener: (stream: Stream, headers: Headers) => void,
): () => void {
  const onMessage = (message: unknown): void => {
    const { stream, headers } = message as { stream: Stream; headers: Headers };
    listener(stream, headers);
  };
  subscribe(channel, onMessage);
  return () => void unsubscribe(channel, onMessage);
}

/**
 * Calls `listener` for every HTTP/2 server stream the process accepts, synchronously when its
 * request headers arrive (before the server's own `'stream'` handler). Returns the unsubscribe.
 */
export function onServerStreams(
  listener: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void,
): () => void {
  return tap(SERVER_STREAM_START, listener);
}

/**
 * Calls `listener` for every HTTP/2 client stream the process opens, with its request headers.
 * Returns the unsubscribe.
 */
export function onClientStreams(
  listener: (stream: ClientHttp2Stream, headers: OutgoingHttpHeaders) => void,
): () => void {
  return tap(CLIENT_STREAM_START, listener);
}

/** The first value of a header, as a string (`undefined` when absent). */
export function headerValue(
  headers: IncomingHttpHeaders | OutgoingHttpHeaders,
  key: string,
): string | undefined {
  const value = headers[key];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : String(first);
}
