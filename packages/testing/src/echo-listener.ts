import { createServer } from 'node:net';
import type { ListenOptions, Socket } from 'node:net';
import type { Server, ServerCredentials } from '@grpc/grpc-js';

/**
 * An echo server's listening socket, held by the kit rather than by grpc-js so that a restart can
 * hand it from one grpc-js server to the next with no moment of refused connections: every
 * connection goes to the current server through its connection injector.
 */
export interface EchoListener {
  /** The bound port (0 on a unix socket). */
  readonly port: number;
  /** Sends the connections accepted from now on to `server` (with `credentials`). */
  serve(server: Server, credentials: ServerCredentials): void;
  /** Stops accepting connections; those accepted stay with their server. */
  close(): void;
}

/** Listens at `where` (`target` names it in errors); connections wait for `serve`. */
export async function listenForEcho(where: ListenOptions, target: string): Promise<EchoListener> {
  let accept = (socket: Socket): void => void socket.destroy();
  const listener = createServer((socket) => accept(socket));
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (error) =>
      reject(new Error(`echo server could not bind ${target}: ${error.message}`)),
    );
    listener.listen(where, resolve);
  });
  const bound = listener.address();
  return {
    port: typeof bound === 'object' && bound !== null ? bound.port : 0,
    serve: (server, credentials) => {
      const injector = server.createConnectionInjector(credentials);
      accept = (socket) => injector.injectConnection(socket);
    },
    close: () => void listener.close(),
  };
}
