export type {
  Backend,
  CallObserver,
  CallReport,
  CallStartInfo,
  ProxyCall,
  Route,
  RouteBackend,
  StreamDirector,
} from './contracts';
export { ProxyStatusError, isStatusError, directorRejection } from './status-error';
export { transparentHandler, registerService, type TransparentHandler } from './handler';
export { serveUnknownServices } from './unknown-services';
export { createProxyServer, proxyServerOptions, type ProxyServerOptions } from './server';
export {
  createBackendClient,
  proxyChannelOptions,
  type BackendChannelOptions,
  type BackendClientOptions,
} from './backend-client';
export {
  DEFAULT_MAX_MESSAGE_LENGTH,
  resolveHandlerOptions,
  type ProxyHandlerOptions,
  type ResolvedHandlerOptions,
} from './options';
export {
  HOP_BY_HOP_KEYS,
  TRANSPORT_KEYS,
  compileMetadataPolicy,
  filterIncomingMetadata,
  filterResponseMetadata,
  finishOutgoingMetadata,
  isForwardedRequestKey,
  isForwardedResponseKey,
  isValidMetadataKey,
  isValidMetadataValue,
  peerAddress,
  sanitizeRouteMetadata,
  type CompiledMetadataPolicy,
  type ForwardingInfo,
  type MetadataPolicyOptions,
} from './metadata-policy';
