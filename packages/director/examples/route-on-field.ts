import { ServerCredentials } from '@grpc/grpc-js';
import { createProxyServer, type ProxyCall, type Route } from '@grpc-proxy/handler';
import { createBackend } from '@grpc-proxy/director';
// Any ts-proto generated request type works the same; this is the test kit's echo request.
import { EchoRequest } from '@grpc-proxy/testing';

/** A running proxy of this example. */
export interface FieldRoutedProxy {
  /** Where clients connect: `127.0.0.1:<port>`. */
  readonly address: string;
  /** Stops the server, then closes both backends. */
  close(): Promise<void>;
}

/**
 * A proxy that reads each call's first request message and routes on one of its fields: calls
 * asking for more than 10 responses go to `bulk`, all others (and calls without a message) to
 * `interactive`. The message still reaches the backend unchanged, before the rest of the stream.
 */
export async function startFieldRoutedProxy(targets: {
  interactive: string;
  bulk: string;
}): Promise<FieldRoutedProxy> {
  const interactive = createBackend(targets.interactive, { name: 'interactive' });
  const bulk = createBackend(targets.bulk, { name: 'bulk' });

  const director = async (call: ProxyCall): Promise<Route> => {
    const first = await call.firstMessage(); // raw bytes, or null: the client sent none
    const request = first && EchoRequest.decode(first); // ts-proto decodes it in one line
    return { backend: request && request.responseCount > 10 ? bulk : interactive };
  };

  const server = createProxyServer({ director });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );

  return {
    address: `127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      interactive.close();
      bulk.close();
    },
  };
}
