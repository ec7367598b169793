/**
 * A raw HTTP/2 backend for the client-limit specs: it holds every stream open until the test
 * answers it, counts the connections the proxy made, and lets a test wait for the n-th stream
 * (an event, not a poll) or for a stream's close.
 */
import {
  createServer,
  type Http2Server,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { encodeMessage } from '@grpc-proxy/codec';

export interface HeldBackend {
  readonly target: string;
  /** Every stream, in arrival order. */
  readonly streams: ServerHttp2Stream[];
  /** Connections the proxy opened so far. */
  readonly connections: Http2Session[];
  /** The index in {@link connections} of the connection each stream came on, in stream order. */
  readonly streamConnections: number[];
  /** Resolves with the `count`-th stream once it arrived. */
  stream(count: number): Promise<ServerHttp2Stream>;
  close(): Promise<void>;
}

/** Starts a {@link HeldBackend} on 127.0.0.1:0. */
export async function startHeldBackend(): Promise<HeldBackend> {
  const server: Http2Server = createServer();
  const streams: ServerHttp2Stream[] = [];
  const connections: Http2Session[] = [];
  const streamConnections: number[] = [];
  let waiters: (() => void)[] = [];
  server.on('session', (session) => {
    connections.push(session);
    session.on('error', () => undefined);
  });
  server.on('stream', (stream) => {
    streams.push(stream);
    streamConnections.push(connections.indexOf(stream.session!));
    stream.on('error', () => undefined);
    // The request body is read and dropped, so it never holds the connection window.
    stream.resume();
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams,
    connections,
    streamConnections,
    stream: (count) =>
      new Promise((resolve) => {
        const check = (): void => {
          if (streams.length < count) return;
          waiters = waiters.filter((waiter) => waiter !== check);
          resolve(streams[count - 1]);
        };
        waiters.push(check);
        check();
      }),
    close: () =>
      new Promise((resolve) => {
        for (const session of connections) session.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers `stream` with headers, `payload` as one message (none without), and status OK. */
export function answerHeld(stream: ServerHttp2Stream, payload?: Buffer): void {
  if (stream.closed) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  if (payload === undefined) stream.end();
  else stream.end(encodeMessage(payload));
}

/** Resolves once `emitter` emitted `event`, with its first argument. */
export function once<T = unknown>(
  emitter: { once(event: string, listener: (value: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, resolve));
}
