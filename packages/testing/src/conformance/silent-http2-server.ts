/** An HTTP/2 server that takes streams and never reads nor answers them: a stuck mirror. */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

/** A running {@link startSilentHttp2Server}. */
export interface SilentHttp2Server {
  /** `127.0.0.1:port`. */
  readonly address: string;
  /** The request headers of every stream opened, oldest first. */
  readonly streams: http2.IncomingHttpHeaders[];
  /** Destroys every session and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a plain-text HTTP/2 server on 127.0.0.1:0 that records each stream's headers and leaves
 * it alone: its data is never read (flow control stops the sender after the 64 KiB window) and
 * no response is sent, so a stream ends only when the peer resets it.
 */
export async function startSilentHttp2Server(): Promise<SilentHttp2Server> {
  const streams: http2.IncomingHttpHeaders[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined); // a peer going away mid-stream is expected here
  });
  server.on('stream', (stream, headers) => {
    streams.push(headers);
    stream.on('error', () => undefined); // the proxy resets the streams it drops
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    streams,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An address on 127.0.0.1 that refuses connections: a port bound, then let go. */
export async function refusedAddress(): Promise<string> {
  const server = http2.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}
