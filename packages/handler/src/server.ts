import { Server, type ServerOptions } from '@grpc/grpc-js';
import type { StreamDirector } from './contracts';
import {
  announcedStreams,
  grpcLengthOption,
  resolveHandlerOptions,
  type ProxyHandlerOptions,
} from './options';
import { serveUnknownServices } from './unknown-services';

/**
 * grpc-js server options for a proxy server: the handler's size limits as the server's
 * `grpc.max_receive_message_length` / `grpc.max_send_message_length` (default 64 MiB), twice
 * `maxConcurrentStreams` as `grpc.max_concurrent_streams` (default 200: the handler runs 100
 * calls per connection and queues the others) and channelz off (`grpc.enable_channelz: 0`, it
 * costs CPU per call). `serverOptions` win.
 */
export function proxyServerOptions(
  options: ProxyHandlerOptions = {},
  serverOptions: ServerOptions = {},
): ServerOptions {
  const resolved = resolveHandlerOptions(options);
  return {
    'grpc.max_receive_message_length': grpcLengthOption(resolved.maxReceiveMessageLength),
    'grpc.max_send_message_length': grpcLengthOption(resolved.maxSendMessageLength),
    'grpc.max_concurrent_streams': announcedStreams(resolved.maxConcurrentStreams),
    'grpc.enable_channelz': 0,
    ...serverOptions,
  };
}

/** Options of {@link createProxyServer}. */
export interface ProxyServerOptions extends ProxyHandlerOptions {
  /** Picks the backend of each call. */
  director: StreamDirector;
  /** More grpc-js server options (keepalive, interceptors...); they win over the proxy defaults. Default: none. */
  serverOptions?: ServerOptions;
}

/**
 * A grpc-js `Server` that proxies every call through `options.director` (see
 * {@link serveUnknownServices}), with {@link proxyServerOptions}. It is not bound yet: call
 * `bindAsync`, and `tryShutdown`/`forceShutdown` to stop it. Services registered on it later
 * are served by their own handlers.
 */
export function createProxyServer(options: ProxyServerOptions): Server {
  const { director, serverOptions, ...handlerOptions } = options;
  const server = new Server(proxyServerOptions(handlerOptions, serverOptions));
  serveUnknownServices(server, director, handlerOptions);
  return server;
}
