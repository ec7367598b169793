import { ServerCredentials } from '@grpc/grpc-js';
import { createBackendClient, createProxyServer, type CallReport } from '@grpc-proxy/handler';

/**
 * A proxy on 127.0.0.1:0 that sends every call to all of `shardTargets` at once. The methods in
 * `unaryMethods` (unary and client-streaming: their client expects one message) get one answer,
 * the shards' answers concatenated — for protobuf a merge, repeated fields append; every other
 * method gets all the shards' messages, interleaved as they arrive. A shard that fails is left
 * out (`onError: 'skip'`); `reports` lists how each call, and each shard in it, ended.
 */
export async function startFanOutProxy(
  shardTargets: readonly string[],
  unaryMethods: ReadonlySet<string>,
) {
  const shards = shardTargets.map((target) => createBackendClient(target));
  const reports: CallReport[] = [];
  const server = createProxyServer({
    director: (call) => ({
      backend: {
        name: 'all-shards',
        fanOut: {
          backends: shards,
          responses: unaryMethods.has(call.method) ? 'merge' : 'stream',
          onError: 'skip',
        },
      },
    }),
    observer: { onCallEnd: (report) => reports.push(report) },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, boundPort) =>
      error ? reject(error) : resolve(boundPort),
    ),
  );
  return {
    address: `127.0.0.1:${port}`,
    reports,
    close: () => {
      server.forceShutdown();
      for (const shard of shards) shard.close();
    },
  };
}
