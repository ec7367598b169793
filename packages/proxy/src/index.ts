/**
 * One import for the layers of grpc-proxy (codec, handler, director), plus what it takes to
 * run the `grpc-proxy` command in-process: config loading, `startProxy`, metrics.
 *
 * Every export is listed by name (no `export *`): the public surface is what this file shows.
 * The layer part is written by scripts/sync-exports.mjs.
 */

// @grpc-proxy/codec: raw payloads and gRPC message framing.
export {
  codecWithParent,
  DEFAULT_MAX_MESSAGE_LENGTH,
  deserializeRaw,
  encodeMessage,
  encodeMessagePrefix,
  fromTsProto,
  MAX_WIRE_MESSAGE_LENGTH,
  MESSAGE_PREFIX_LENGTH,
  MessageDecoder,
  MessageFramingError,
  PrefixScanner,
  RawFrame,
  rawMethod,
  ScanResult,
  serializeRaw,
} from '@grpc-proxy/codec';
export type {
  Codec,
  CodecWithParent,
  DecodedMessage,
  EncodeMessageOptions,
  FrameDecoder,
  MessageCounter,
  MessageDecoderOptions,
  MessageFramingErrorCode,
  RawMethodDefinition,
  RawMethodOptions,
  TsProtoMessageFns,
} from '@grpc-proxy/codec';

// @grpc-proxy/handler: the proxy engine and its contracts.
export {
  createBackendClient,
  createProxyServer,
  DEFAULT_MIRROR_HEADER,
  DEFAULT_MIRROR_TIMEOUT_MS,
  isFanOutBackend,
  isStatusError,
  MIRROR_BUFFER_BYTES,
  proxyChannelOptions,
  proxyServerOptions,
  ProxyStatusError,
  registerService,
  serveUnknownServices,
  transparentHandler,
} from '@grpc-proxy/handler';
export type {
  Backend,
  BackendAddress,
  BackendChannelOptions,
  BackendClientOptions,
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
  MetadataPolicyOptions,
  MirrorReport,
  MirrorRoute,
  ProxyCall,
  ProxyHandlerOptions,
  ProxyServerOptions,
  Route,
  RouteBackend,
  StreamDirector,
  TransparentHandler,
} from '@grpc-proxy/handler';

// @grpc-proxy/director: directors that compose, backends, health checking.
export {
  byMetadata,
  byService,
  createBackend,
  failover,
  fanOut,
  fanOutBackend,
  HEALTH_CHECK_DEFAULTS,
  healthChecked,
  HealthCheckedSet,
  roundRobin,
  withMirror,
} from '@grpc-proxy/director';
export type {
  BackendOptions,
  BackendSet,
  BackoffOptions,
  ByMetadataOptions,
  ComposedDirector,
  FanOutOptions,
  FanOutPicker,
  HealthChangeListener,
  HealthCheckedEvents,
  HealthCheckedOptions,
  HealthStatus,
  MetadataRoutes,
  OwnedBackend,
  OwnedFanOutBackend,
  RouteTarget,
  ServiceRoutes,
} from '@grpc-proxy/director';
// @grpc-proxy/proxy: the grpc-proxy command, in-process (the command's flags, exit codes and
// building blocks stay private).
export { ConfigError } from './config/config-error';
export type { ConfigIssue } from './config/config-error';
export { loadConfig, parseConfig } from './config/load';
export { proxyConfigSchema } from './config/schema';
export type {
  AdminConfig,
  BackendConfig,
  BackendTlsConfig,
  BalancingPolicy,
  Engine,
  FanOutConfig,
  HealthCheckConfig,
  KeepaliveConfig,
  LimitsConfig,
  LogConfig,
  LogLevel,
  MetadataConfig,
  MirrorConfig,
  ProxyConfig,
  ResolvedBackend,
  ResolvedFanOut,
  ResolvedHealthCheck,
  ResolvedMirror,
  ResolvedProxyConfig,
  ResolvedRoute,
  RouteConfig,
  ServerTlsConfig,
  ShutdownConfig,
} from './config/types';
export type { TargetHealthChange } from './backends';
export { createProxyMetrics } from './metrics';
export type { ProxyMetrics, ProxyMetricsOptions } from './metrics';
export { SHUTDOWN_MESSAGE, startProxy } from './proxy';
export type { DrainSummary, ProxyHandle, ReloadResult, StartProxyOptions } from './proxy';
