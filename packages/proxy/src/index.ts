/**
 * One import for every layer of grpc-proxy, plus the building blocks of the `grpc-proxy`
 * command (config loading, `startProxy`, metrics, logs) so it can run in-process.
 *
 * Every export is listed by name (no `export *`): the public surface is what this file shows.
 * The layer part is written by scripts/sync-exports.mjs.
 */

// @grpc-proxy/codec: raw payloads and gRPC message framing.
// (DEFAULT_MAX_MESSAGE_LENGTH: exported once, from another layer, same value.)
export {
  codecWithParent,
  deserializeRaw,
  encodeMessage,
  encodeMessagePrefix,
  fromTsProto,
  MAX_WIRE_MESSAGE_LENGTH,
  MESSAGE_PREFIX_LENGTH,
  MessageDecoder,
  MessageFramingError,
  RawFrame,
  rawMethod,
  serializeRaw,
} from '@grpc-proxy/codec';
export type {
  Codec,
  CodecWithParent,
  DecodedMessage,
  EncodeMessageOptions,
  FrameDecoder,
  MessageDecoderOptions,
  MessageFramingErrorCode,
  RawMethodDefinition,
  RawMethodOptions,
  TsProtoMessageFns,
} from '@grpc-proxy/codec';

// @grpc-proxy/handler: the proxy engine and its contracts.
export {
  compileMetadataPolicy,
  createBackendClient,
  createProxyServer,
  DEFAULT_MAX_MESSAGE_LENGTH,
  directorRejection,
  filterIncomingMetadata,
  filterResponseMetadata,
  finishOutgoingMetadata,
  HOP_BY_HOP_KEYS,
  isForwardedRequestKey,
  isForwardedResponseKey,
  isStatusError,
  isValidMetadataKey,
  isValidMetadataValue,
  peerAddress,
  proxyChannelOptions,
  proxyServerOptions,
  ProxyStatusError,
  registerService,
  resolveHandlerOptions,
  sanitizeRouteMetadata,
  serveUnknownServices,
  transparentHandler,
  TRANSPORT_KEYS,
} from '@grpc-proxy/handler';
export type {
  Backend,
  BackendChannelOptions,
  BackendClientOptions,
  CallObserver,
  CallReport,
  CallStartInfo,
  CompiledMetadataPolicy,
  ForwardingInfo,
  MetadataPolicyOptions,
  ProxyCall,
  ProxyHandlerOptions,
  ProxyServerOptions,
  ResolvedHandlerOptions,
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
  healthChecked,
  HealthCheckedSet,
  roundRobin,
} from '@grpc-proxy/director';
export type {
  BackendOptions,
  BackendSet,
  BackoffOptions,
  ByMetadataOptions,
  ComposedDirector,
  HealthCheckedEvents,
  HealthCheckedOptions,
  HealthStatus,
  MetadataRoutes,
  OwnedBackend,
  RouteTarget,
  ServiceRoutes,
} from '@grpc-proxy/director';

// @grpc-proxy/testing: echo service, servers, clients and the conformance suite.
export {
  CALL_ID_KEY,
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  conformanceCases,
  ConformanceError,
  createEchoClient,
  createTestPki,
  describeProxyConformance,
  ECHO_SERVICE_NAME,
  EchoCallLog,
  EchoRequest,
  echoRequest,
  EchoResponse,
  EchoServiceClient,
  EchoServiceService,
  entriesFromMetadata,
  HeadersMode,
  metadataEntries,
  MetadataEntry,
  metadataFromEntries,
  openBidi,
  patternPayload,
  selectCases,
  startEchoServer,
} from '@grpc-proxy/testing';
export type {
  BidiSession,
  CallOutcome,
  CallSettings,
  CertFiles,
  ConformanceCase,
  ConformanceOptions,
  EchoCallLogOptions,
  EchoCallRecord,
  EchoClientOptions,
  EchoServerCallCounts,
  EchoServerHandle,
  EchoServerOptions,
  EchoServiceServer,
  ProxyConformanceOptions,
  StartedProxy,
  TestPki,
  WaitForCallOptions,
} from '@grpc-proxy/testing';
// @grpc-proxy/proxy: the grpc-proxy command's building blocks.
export { ConfigError } from './config/config-error';
export type { ConfigIssue } from './config/config-error';
export { BALANCING_POLICIES, LOG_LEVELS } from './config/types';
export type {
  AdminConfig,
  BackendConfig,
  BackendTlsConfig,
  BalancingPolicy,
  HealthCheckConfig,
  KeepaliveConfig,
  LimitsConfig,
  LogConfig,
  LogLevel,
  MetadataConfig,
  ProxyConfig,
  ResolvedBackend,
  ResolvedHealthCheck,
  ResolvedProxyConfig,
  ResolvedRoute,
  RouteConfig,
  ServerTlsConfig,
  ShutdownConfig,
} from './config/types';
export { proxyConfigSchema } from './config/schema';
export { validateConfig } from './config/validate';
export { CONFIG_DEFAULTS, resolveConfig } from './config/resolve';
export {
  checkConfigFiles,
  configBaseDir,
  finishConfig,
  loadConfig,
  parseConfig,
  parseConfigDocument,
  readConfigDocument,
} from './config/load';
export { compileRoutes } from './routing';
export type { MetadataValues, RoutableCall, RouteTable } from './routing';
export { createConfigDirector } from './config-director';
export type { RoutableGroup } from './config-director';
export { createBackendGroup, memberName } from './backends';
export type { BackendGroup, TargetHealthChange } from './backends';
export { backendCredentials, serverCredentials } from './tls';
export { createCallTracker } from './call-tracker';
export type { CallTracker } from './call-tracker';
export { PROXY_HEAP_GROWING_PERCENT, tuneHeapForProxying } from './heap-tuning';
export type { HeapTuningEnvironment } from './heap-tuning';
export { codeName, createProxyMetrics, NO_BACKEND_LABEL } from './metrics';
export type { ProxyMetrics, ProxyMetricsOptions } from './metrics';
export { combineObservers, createCallLogger, createLogger } from './logging';
export type { LoggerOptions } from './logging';
export { startAdminServer } from './admin';
export type { AdminServer, AdminSources } from './admin';
export { backendChannelOptions, serverOptionsFor, SHUTDOWN_MESSAGE, startProxy } from './proxy';
export type { DrainSummary, ProxyHandle, StartProxyOptions } from './proxy';
export { applyFlags, configFromFlags, createProgram, EXIT_CODES, UsageError } from './command';
export type { ProxyFlags } from './command';
