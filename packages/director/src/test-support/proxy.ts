import { ServerCredentials } from '@grpc/grpc-js';
import type { StreamDirector } from '@grpc-proxy/handler';
import { createProxyServer } from '@grpc-proxy/handler';
import { createEchoClient } from '@grpc-proxy/testing';
import type { EchoServiceClient } from '@grpc-proxy/testing';
import { stopServer } from './health-server';

/** A proxy server built with the handler around one director, and an echo client to it. */
export interface DirectedProxy {
  readonly client: EchoServiceClient;
  /** Closes the client and stops the server at once (the director is the caller's to close). */
  close(): Promise<void>;
}

/** Starts a proxy for `director` on 127.0.0.1, a free port. */
export async function startDirectedProxy(director: StreamDirector): Promise<DirectedProxy> {
  const server = createProxyServer({ director });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  const client = createEchoClient(`127.0.0.1:${port}`);
  return {
    client,
    close: async () => {
      client.close();
      await stopServer(server);
    },
  };
}
