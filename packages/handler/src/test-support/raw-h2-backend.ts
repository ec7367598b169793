/**
 * A bare `node:http2` backend on 127.0.0.1:0 that answers gRPC calls by a script, for what a
 * grpc-js server never does on its own: dying or resetting a stream after its headers, ending
 * without trailers.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

/** One gRPC message frame (uncompressed) around `payload`. */
export function grpcFrame(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(payload.length, 1);
  return Buffer.concat([prefix, payload]);
}

export interface RawH2Backend {
  readonly port: number;
  readonly target: string;
  close(): Promise<void>;
}

/** Starts the backend; `onStream` answers every request stream. */
export async function startRawH2Backend(
  onStream: (stream: http2.ServerHttp2Stream) => void,
): Promise<RawH2Backend> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    onStream(stream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    target: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sends the response headers and one message `payload` (the stream stays open). */
export function respondWithMessage(stream: http2.ServerHttp2Stream, payload: Buffer): void {
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc', 'x-raw-header': 'yes' },
    { waitForTrailers: true },
  );
  stream.write(grpcFrame(payload));
}
