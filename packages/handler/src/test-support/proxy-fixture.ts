import { ServerCredentials, type Server } from '@grpc/grpc-js';
import type { StreamDirector } from '../contracts';
import type { ProxyHandlerOptions } from '../options';
import { createProxyServer } from '../server';
import type { RunningServer } from './grpc-fixtures';

/** Binds an existing server on 127.0.0.1:0. */
export async function bindLocal(server: Server): Promise<RunningServer> {
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { server, port, target: `127.0.0.1:${port}`, close: async () => server.forceShutdown() };
}

/** Starts `createProxyServer` on 127.0.0.1:0. */
export function startProxy(
  director: StreamDirector,
  options: ProxyHandlerOptions = {},
): Promise<RunningServer> {
  return bindLocal(createProxyServer({ director, ...options }));
}
