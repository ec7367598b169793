import { status } from '@grpc/grpc-js';
import { ProxyStatusError } from '@grpc-proxy/handler';
import { createHttp2Proxy } from '@grpc-proxy/http2';

/**
 * Peek: each call goes to the shard its first request message names. `shardOf` reads the shard
 * from the message's bytes (with a ts-proto type: `Request.decode(message).shardId`); a call that
 * half-closes without a message goes to shard 0. The message itself reaches the shard unchanged.
 */
export async function startPeekExample(
  shards: readonly string[],
  shardOf: (message: Buffer) => number,
) {
  const proxy = createHttp2Proxy({
    director: async (call) => {
      // Rejects with the call's status (CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) if the
      // call ends first: thrown on, it is the client's status.
      const message = await call.firstMessage();
      const shard = message === null ? 0 : shardOf(message);
      const target = shards[shard];
      if (target === undefined) {
        throw new ProxyStatusError(status.INVALID_ARGUMENT, `no shard ${shard}`);
      }
      return { backend: { name: `shard-${shard}`, target } };
    },
    maxReceiveMessageLength: 4 * 1024 * 1024, // the peek holds at most one such message
  });
  const address = await proxy.listen('127.0.0.1:0');
  return { address, close: () => proxy.close(5_000) };
}
