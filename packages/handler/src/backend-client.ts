import {
  Client,
  credentials as grpcCredentials,
  type ChannelCredentials,
  type ChannelOptions,
} from '@grpc/grpc-js';
import { DEFAULT_MAX_MESSAGE_LENGTH } from '@grpc-proxy/codec';
import { grpcLengthOption } from './options';

/** 100 ms: first delay before a backend channel tries to connect again after a failure. */
const INITIAL_RECONNECT_BACKOFF_MS = 100;
/** 500 ms: longest delay between two connection attempts of a backend channel. */
const MAX_RECONNECT_BACKOFF_MS = 500;

/** Options of {@link proxyChannelOptions} and {@link createBackendClient}. */
export interface BackendChannelOptions {
  /** Largest message the backend may send, in bytes; `-1` = no limit. Default: 64 MiB. */
  maxReceiveMessageLength?: number;
  /** Largest message sent to the backend, in bytes; `-1` = no limit. Default: 64 MiB. */
  maxSendMessageLength?: number;
  /** More grpc-js channel options; they win over the proxy defaults. Default: none. */
  channelOptions?: ChannelOptions;
}

/**
 * grpc-js channel options for a backend channel used by the proxy:
 * - `grpc.enable_retries: 0` and `grpc.per_rpc_retry_buffer_size: 0`: grpc-js never replays
 *   a call itself (the engine's own transparent retries go through the director, to another
 *   backend), and its retry buffer would acknowledge writes before they reach the backend
 *   (breaking backpressure and holding up to 256 KiB per call);
 * - `grpc.enable_channelz: 0`: channelz bookkeeping costs CPU on every call;
 * - `grpc.max_receive_message_length` / `grpc.max_send_message_length`: 64 MiB by default
 *   instead of grpc-js's 4 MiB receive cap;
 * - `grpc.initial_reconnect_backoff_ms: 100` and `grpc.max_reconnect_backoff_ms: 500`: a backend
 *   that is down is tried again at least every 500 ms (± 20 % jitter) instead of grpc-js's
 *   1 s growing to 120 s, so that a backend that comes back is in use again within half a second.
 *   grpc-js fails calls at once while the channel is in `TRANSIENT_FAILURE`; the handler's
 *   `backendConnectTimeoutMs` (1 000 ms) lets a call wait for the next attempt instead, which is
 *   why the backoff must stay well below it. One connection attempt per 500 ms per down backend
 *   is the price.
 */
export function proxyChannelOptions(options: BackendChannelOptions = {}): ChannelOptions {
  return {
    'grpc.enable_retries': 0,
    'grpc.per_rpc_retry_buffer_size': 0,
    'grpc.enable_channelz': 0,
    'grpc.initial_reconnect_backoff_ms': INITIAL_RECONNECT_BACKOFF_MS,
    'grpc.max_reconnect_backoff_ms': MAX_RECONNECT_BACKOFF_MS,
    'grpc.max_receive_message_length': grpcLengthOption(
      options.maxReceiveMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
    ),
    'grpc.max_send_message_length': grpcLengthOption(
      options.maxSendMessageLength ?? DEFAULT_MAX_MESSAGE_LENGTH,
    ),
    ...options.channelOptions,
  };
}

/** Options of {@link createBackendClient}. */
export interface BackendClientOptions extends BackendChannelOptions {
  /** Channel credentials. Default: `credentials.createInsecure()`. */
  credentials?: ChannelCredentials;
}

/**
 * A grpc-js `Client` for `target` (e.g. `'127.0.0.1:50051'`, `'dns:///svc:443'`) with
 * {@link proxyChannelOptions}, ready to be a route's backend. Close it with `client.close()`.
 */
export function createBackendClient(target: string, options: BackendClientOptions = {}): Client {
  return new Client(
    target,
    options.credentials ?? grpcCredentials.createInsecure(),
    proxyChannelOptions(options),
  );
}
