/**
 * Small raw grpc-js servers and clients on 127.0.0.1:0 for the handler's own tests. Payloads
 * are raw Buffers (identity serializers) so tests can compare exact bytes; calls are made with
 * the test kit's raw call helpers (`callRawUnary`, `openRawBidi`, ...).
 */
import {
  Client,
  Server,
  ServerCredentials,
  credentials,
  type Metadata,
  type MetadataValue,
  type ServerOptions,
} from '@grpc/grpc-js';

export const raw = (b: Buffer): Buffer => b;

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  readonly target: string;
  close(): Promise<void>;
}

/** Binds `server` on 127.0.0.1:`port` (default 0: any free port); `close` force-shuts it down. */
export async function bindLocal(server: Server, port = 0): Promise<RunningServer> {
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    server,
    port: boundPort,
    target: `127.0.0.1:${boundPort}`,
    close: async () => server.forceShutdown(),
  };
}

/** Starts a grpc-js server on 127.0.0.1:`port` (default 0) after `setup` registered its handlers. */
export function startServer(
  setup: (server: Server) => void,
  options?: ServerOptions,
  port = 0,
): Promise<RunningServer> {
  const server = new Server(options);
  setup(server);
  return bindLocal(server, port);
}

/** A client making raw calls; closed by the caller. */
export function rawClient(target: string, options: Record<string, unknown> = {}): Client {
  return new Client(target, credentials.createInsecure(), {
    'grpc.enable_channelz': 0,
    ...options,
  });
}

/** Resolves when `predicate` holds, polling every 2 ms; rejects after `limit` polls (10 s). */
export async function eventually(
  predicate: () => boolean,
  what: string,
  limit = 5000,
): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`condition never held: ${what}`);
}

/** A metadata's entries as a plain object of arrays (`{}` for none), for exact comparisons. */
export function entries(metadata: Metadata | undefined): Record<string, MetadataValue[]> {
  return metadata?.toJSON() ?? {};
}
