export type {
  Backend,
  BackendAddress,
  BackendTls,
  CallObserver,
  CallReport,
  CallStartInfo,
  FanOut,
  FanOutBackend,
  FanOutErrorHandler,
  FanOutFailure,
  FanOutMember,
  FanOutOutcome,
  MirrorReport,
  MirrorRoute,
  ProxyCall,
  Route,
  RouteBackend,
  StreamDirector,
} from './contracts';
export { ProxyStatusError, isStatusError } from './status-error';
export { isFanOutBackend } from './fan-out';
export {
  DEFAULT_MIRROR_HEADER,
  DEFAULT_MIRROR_TIMEOUT_MS,
  MIRROR_BUFFER_BYTES,
} from './mirror-routes';
export { transparentHandler, registerService, type TransparentHandler } from './handler';
export { serveUnknownServices } from './unknown-services';
export { createProxyServer, proxyServerOptions, type ProxyServerOptions } from './server';
export {
  createBackendClient,
  proxyChannelOptions,
  type BackendChannelOptions,
  type BackendClientOptions,
} from './backend-client';
export type { ProxyHandlerOptions } from './options';
export type { MetadataPolicyOptions } from './metadata-policy';
