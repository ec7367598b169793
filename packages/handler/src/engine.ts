/**
 * `@grpc-proxy/handler/engine`: the building blocks a second proxy engine (for example one on
 * `node:http2`) shares with the grpc-js one. Not covered by semver: it may change in any release.
 */
export { isThenable } from './thenable';
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
} from './metadata-policy';
export {
  DEFAULT_CLIENT_STALL_TIMEOUT_MS,
  DEFAULT_MAX_CLIENT_BUFFER_BYTES,
  DEFAULT_MAX_CLIENT_RESETS_PER_SECOND,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  integerOption,
  resolveClientConnectionLimits,
  resolveHandlerOptions,
  type ResolvedClientConnectionLimits,
  type ResolvedHandlerOptions,
} from './options';
export { describeError, directorRejection } from './status-error';
export { CallRecorder } from './call-recorder';
export { ProxyCallBase } from './proxy-call-base';
export { sampleMirrors } from './mirror-routes';
export { checkFanOut } from './fan-out';
export { FanOutResults, type FanOutLegEnd, type FanOutSink } from './fan-out-results';
export { clientLeftStatus } from './final-status';
export { safely, warnUnexpected } from './warnings';
export {
  MAX_CALL_ATTEMPTS,
  TRANSPARENT_RETRY_BUFFER_BYTES,
  TransparentRetries,
} from './transparent-retry';
