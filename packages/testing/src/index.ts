export {
  EchoRequest,
  EchoResponse,
  EchoServiceClient,
  EchoServiceService,
  HeadersMode,
  MetadataEntry,
} from './gen/grpc_proxy/testing/v1/echo';
export type { EchoServiceServer } from './gen/grpc_proxy/testing/v1/echo';
export { EchoCallLog } from './call-log';
export type { EchoCallLogOptions, EchoCallRecord, WaitForCallOptions } from './call-log';
export { ECHO_SERVICE_NAME, startEchoServer } from './echo-server';
export type { EchoServerCallCounts, EchoServerHandle, EchoServerOptions } from './echo-server';
export { OPAQUE_ECHO_METHOD } from './opaque-echo';
export { RESPONSE_ENCODING_KEY } from './server-wire';
export type { OpenStream } from './server-wire';
export { createEchoClient } from './echo-client';
export type { EchoClientOptions } from './echo-client';
export { entriesFromMetadata, entriesFromPairs, metadataFromEntries } from './metadata-entries';
export { patternPayload } from './payload';
export {
  callBidi,
  callClientStream,
  callEcho,
  callRawBidi,
  callRawClientStream,
  callRawServerStream,
  callRawUnary,
  callServerStream,
  echoRequest,
  openBidi,
  openRawBidi,
} from './client-calls';
export type { BidiSession, CallOutcome, CallSettings } from './client-calls';
export {
  CALL_ID_KEY,
  ConformanceError,
  conformanceCases,
  describeProxyConformance,
  selectCases,
  describePeekConformance,
  peekCases,
  selectPeekCases,
  PEEK_RECEIVE_LIMIT,
  DENIED,
  DENY_PAYLOAD,
  PeekLog,
  peekDirector,
  ROUTE_TO_B,
  DEFAULT_MIRROR_BUDGET_BYTES,
  describeMirrorConformance,
  MIRROR_CASE_TIMEOUT_MS,
  MIRROR_TARGET_KEY,
  mirrorCases,
  MirrorLog,
  mirrorDirector,
  refusedAddress,
  selectMirrorCases,
  startSilentHttp2Server,
  STRICT_MIRROR_RECEIVE_LIMIT,
  describeFanOutConformance,
  FAILING_STATUS,
  FAN_OUT_CANCELLED_DETAILS,
  FAN_OUT_NAME,
  FAN_OUT_PLAN_KEY,
  fanOutCases,
  fanOutDirector,
  FanOutReportLog,
  failureMessage,
  mergeNames,
  planEntry,
  selectFanOutCases,
  startFailingServer,
} from './conformance';
export type {
  ConformanceCase,
  ConformanceOptions,
  DeclaredDifferences,
  ProxyConformanceOptions,
  StartedProxy,
  PeekCall,
  PeekCase,
  PeekCaseContext,
  PeekConformanceOptions,
  PeekEnvironment,
  PeekingDirector,
  PeekOutcome,
  PeekProxySettings,
  PeekRecord,
  PeekRoute,
  TargetBackend,
  LoggedMirrorReport,
  MirrorCall,
  MirrorCase,
  MirrorCaseContext,
  MirrorConformanceOptions,
  MirroredRoute,
  MirrorEnvironment,
  MirrorExpectations,
  MirroringDirector,
  MirrorProxySettings,
  MirrorReportShape,
  MirrorRouteShape,
  MirrorTarget,
  SilentHttp2Server,
  ExpectedOutcome,
  ExpectedReport,
  FailingServer,
  FanningDirector,
  FanOutCall,
  FanOutCallReportShape,
  FanOutCase,
  FanOutCaseContext,
  FanOutConformanceOptions,
  FanOutEchoes,
  FanOutEnvironment,
  FanOutExpectations,
  FanOutFailureShape,
  FanOutMemberName,
  FanOutOutcomeShape,
  FanOutPlan,
  FanOutProxySettings,
  FanOutRoute,
  FanOutShape,
} from './conformance';
export { describeBackpressure } from './backpressure';
export { describeReadmeExamples } from './readme-examples';
export { useProcessWarnings } from './process-warnings';
export {
  MIXED_CALL_CODES,
  MIXED_CALL_INDEX_KEY,
  MIXED_CALL_KIND_KEY,
  mixedCallKind,
  runMixedCall,
} from './mixed-calls';
export type { MixedCallKind } from './mixed-calls';
export { cutOff, messageBoundaries, splitAt } from './chunking';
export { directorRejectionCases, rejectionSeen } from './director-rejections';
export type { DirectorRejectionCase, DirectorRejectionOutcome } from './director-rejections';
export type { BackpressureOptions } from './backpressure';
export { createTestPki, type CertFiles, type TestPki } from './test-pki';
export { resolveBin, runNodeProcess, startNodeProcess } from './node-process';
export type {
  NodeProcess,
  NodeProcessOptions,
  NodeProcessResult,
  ProcessExit,
} from './node-process';
