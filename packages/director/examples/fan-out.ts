import { ServerCredentials } from '@grpc/grpc-js';
import { createProxyServer } from '@grpc-proxy/handler';
import { byService, createBackend, fanOutBackend } from '@grpc-proxy/director';

/** A running proxy of this example. */
export interface FanOutProxy {
  /** Where clients connect: `127.0.0.1:<port>`. */
  readonly address: string;
  /** Stops the server, then closes every backend. */
  close(): Promise<void>;
}

/**
 * A proxy in front of shards that each hold part of the answer:
 * - a unary `Echo` call goes to every shard, and the client gets one response, the shards'
 *   responses merged (their bytes concatenated: protobuf appends repeated fields, so the client
 *   gets every shard's items);
 * - a `ServerStream` call goes to every shard too, and the client gets every shard's messages,
 *   interleaved as they arrive;
 * - any other call goes to the first shard.
 * A shard that fails fails the call with its status (the default `onError: 'first-error'`).
 */
export async function startFanOutProxy(shardTargets: readonly string[]): Promise<FanOutProxy> {
  const shards = shardTargets.map((target, i) => createBackend(target, { name: `shard-${i}` }));
  const service = 'grpc_proxy.testing.v1.EchoService';
  const director = byService({
    [`${service}/Echo`]: fanOutBackend(shards, { responses: 'merge', name: 'all-shards' }),
    [`${service}/ServerStream`]: fanOutBackend(shards, { responses: 'stream' }),
    '*': shards[0],
  });

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
      director.close(); // owns both fan-outs and the shards: closes each shard once
    },
  };
}
