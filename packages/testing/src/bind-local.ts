import { ServerCredentials, type Server } from '@grpc/grpc-js';

/** Binds `server` on `127.0.0.1:0` without TLS; resolves with the port it got. */
export function bindLocal(server: Server): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) =>
      error ? reject(error) : resolve(port),
    ),
  );
}
