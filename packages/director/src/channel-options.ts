import type { ChannelOptions } from '@grpc/grpc-js';

/** 64 MiB: the handler's default message size limit on both legs (no 4 MiB surprise). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Channel options every backend channel gets unless overridden.
 *
 * - Retries off and a zero retry buffer: a proxy must not buffer or replay a call's messages
 *   (the retry buffer also acknowledges writes before the backend has them, which breaks
 *   backpressure).
 * - Channelz off: it costs CPU on every call and a proxy has its own metrics.
 * - Message size limits as the handler's default, so a large message is not refused on the
 *   backend leg while the client leg accepts it.
 */
export const PROXY_CHANNEL_OPTIONS: Readonly<ChannelOptions> = Object.freeze({
  'grpc.enable_retries': 0,
  'grpc.per_rpc_retry_buffer_size': 0,
  'grpc.enable_channelz': 0,
  'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
  'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
});
