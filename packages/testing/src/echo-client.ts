import { credentials as grpcCredentials } from '@grpc/grpc-js';
import type { ChannelCredentials, ClientOptions } from '@grpc/grpc-js';
import { EchoServiceClient } from './gen/grpc_proxy/testing/v1/echo';

/** Options of {@link createEchoClient}. */
export interface EchoClientOptions {
  /** Channel credentials. Default: `credentials.createInsecure()`. */
  credentials?: ChannelCredentials;
  /**
   * grpc-js client (channel) options. Default: message size limits lifted (`-1` for both
   * `grpc.max_receive_message_length` and `grpc.max_send_message_length`); anything given here
   * is merged over that.
   */
  channelOptions?: ClientOptions;
}

const DEFAULT_CHANNEL_OPTIONS: ClientOptions = {
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
};

/**
 * A typed grpc-js client of the echo service at `address` (`host:port` or `unix:/path`).
 * Close it with `client.close()`.
 */
export function createEchoClient(
  address: string,
  options: EchoClientOptions = {},
): EchoServiceClient {
  return new EchoServiceClient(address, options.credentials ?? grpcCredentials.createInsecure(), {
    ...DEFAULT_CHANNEL_OPTIONS,
    ...options.channelOptions,
  });
}
