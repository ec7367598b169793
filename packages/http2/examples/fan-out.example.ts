import type { FanOutOutcome } from '@grpc-proxy/handler';
import { createHttp2Proxy } from '@grpc-proxy/http2';

/**
 * Fan-out: every call goes to all `shards` at once. A method of `streaming` gets every shard's
 * messages as they arrive; any other gets one response, the shards' responses concatenated (for
 * protobuf a merge: `repeated` fields append). A shard that fails is left out; `onCall` hears
 * how each shard answered.
 */
export async function startFanOutExample(
  shards: readonly string[],
  streaming: ReadonlySet<string>,
  onCall: (outcomes: readonly FanOutOutcome[]) => void,
) {
  const backends = shards.map((target, index) => ({ name: `shard-${index}`, target }));
  const proxy = createHttp2Proxy({
    director: (call) => ({
      backend: {
        name: 'all-shards',
        fanOut: {
          backends,
          responses: streaming.has(call.method) ? 'stream' : 'merge',
          onError: 'skip', // the call ends OK with the shards that answered
        },
      },
    }),
    observer: { onCallEnd: (report) => onCall(report.fanOut ?? []) },
  });
  const address = await proxy.listen('127.0.0.1:0');
  return { address, close: () => proxy.close(5_000) };
}
