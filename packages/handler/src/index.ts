export type {
  Backend,
  BackendAddress,
  BackendTls,
  CallObserver,
  CallReport,
  CallStartInfo,
  ProxyCall,
  Route,
  RouteBackend,
  StreamDirector,
} from './contracts';
export { ProxyStatusError, isStatusError } from './status-error';
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
