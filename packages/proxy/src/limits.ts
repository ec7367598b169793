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
  /**
   * Keepalive, the stream cap (`grpc.max_concurrent_streams`) and the idle timeout
   * (`grpc.max_connection_idle_ms`), for the server. grpc-js has no knob for the other client
   * limits (resets, unread bytes, stalled readers, cancellations towards backends): the grpc-js
   * engine leaves them to Node (its reset limit: 1 000, then 33 a second, then GOAWAY).
   */
  readonly serverOptions: ServerOptions;
}

/** Maps the config's limits to {@link LimitOptions}; grpc-js keys only where no typed option exists. */
export function limitOptions(limits: ResolvedProxyConfig['limits']): LimitOptions {
  const { maxMessageBytes, maxConcurrentStreams, idleTimeoutMs, keepalive } = limits;
  const keepaliveOptions = {
    ...(keepalive.timeMs !== undefined && { 'grpc.keepalive_time_ms': keepalive.timeMs }),
    ...(keepalive.timeoutMs !== undefined && { 'grpc.keepalive_timeout_ms': keepalive.timeoutMs }),
  };
  return {
    messages: { maxReceiveMessageLength: maxMessageBytes, maxSendMessageLength: maxMessageBytes },
    channelOptions: keepaliveOptions,
    serverOptions: {
      ...keepaliveOptions,
      'grpc.max_concurrent_streams': maxConcurrentStreams,
      ...(idleTimeoutMs > 0 && { 'grpc.max_connection_idle_ms': idleTimeoutMs }),
    },
  };
}
