import type { ChannelOptions, ServerOptions } from '@grpc/grpc-js';
import type { BackendChannelOptions, ProxyHandlerOptions } from '@grpc-proxy/handler';
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
   * Keepalive and the idle timeout (`grpc.max_connection_idle_ms`), for the server. (The handler
   * announces the stream limit itself: twice the calls it runs per connection.)
   */
  readonly serverOptions: ServerOptions;
  /** The limits per client connection the grpc-js engine applies itself (`createProxyServer`). */
  readonly clientLimits: Pick<
    ProxyHandlerOptions,
    | 'maxConcurrentStreams'
    | 'maxClientResetsPerSecond'
    | 'maxClientBufferBytes'
    | 'clientStallTimeoutMs'
  >;
}

/** Maps the config's limits to {@link LimitOptions}; grpc-js keys only where no typed option exists. */
export function limitOptions(limits: ResolvedProxyConfig['limits']): LimitOptions {
  const { maxMessageBytes, idleTimeoutMs, keepalive } = limits;
  const keepaliveOptions = {
    ...(keepalive.timeMs !== undefined && { 'grpc.keepalive_time_ms': keepalive.timeMs }),
    ...(keepalive.timeoutMs !== undefined && { 'grpc.keepalive_timeout_ms': keepalive.timeoutMs }),
  };
  return {
    messages: { maxReceiveMessageLength: maxMessageBytes, maxSendMessageLength: maxMessageBytes },
    channelOptions: keepaliveOptions,
    serverOptions: {
      ...keepaliveOptions,
      ...(idleTimeoutMs > 0 && { 'grpc.max_connection_idle_ms': idleTimeoutMs }),
    },
    clientLimits: {
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxClientResetsPerSecond: limits.maxResetsPerSecond,
      maxClientBufferBytes: limits.maxBufferedBytes,
      clientStallTimeoutMs: limits.stallTimeoutMs,
    },
  };
}
