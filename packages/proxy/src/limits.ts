import type { ChannelOptions, ServerOptions } from '@grpc/grpc-js';
import type { BackendChannelOptions } from '@grpc-proxy/handler';
import type { ResolvedProxyConfig } from './config/types';

/** The grpc-js options the limits need: the engine's typed options, and grpc-js keys for the rest. */
export interface LimitOptions {
  /** Message limits, as `createProxyServer` and `createBackend` take them. */
  readonly messages: Pick<
    BackendChannelOptions,
    'maxReceiveMessageLength' | 'maxSendMessageLength'
  >;
  /** Keepalive (`grpc.keepalive_*`), for the backend channels. */
  readonly channelOptions: ChannelOptions;
  /** Keepalive and the stream cap (`grpc.max_concurrent_streams`), for the server. */
  readonly serverOptions: ServerOptions;
}

/** Maps the config's limits to {@link LimitOptions}; grpc-js keys only where no typed option exists. */
export function limitOptions(limits: ResolvedProxyConfig['limits']): LimitOptions {
  const { maxMessageBytes, maxConcurrentStreams, keepalive } = limits;
  const keepaliveOptions = {
    ...(keepalive.timeMs !== undefined && { 'grpc.keepalive_time_ms': keepalive.timeMs }),
    ...(keepalive.timeoutMs !== undefined && { 'grpc.keepalive_timeout_ms': keepalive.timeoutMs }),
  };
  return {
    messages: { maxReceiveMessageLength: maxMessageBytes, maxSendMessageLength: maxMessageBytes },
    channelOptions: keepaliveOptions,
    serverOptions: {
      ...keepaliveOptions,
      ...(maxConcurrentStreams !== undefined && {
        'grpc.max_concurrent_streams': maxConcurrentStreams,
      }),
    },
  };
}
