export { conformanceCases } from './cases';
export { ConformanceError } from './check';
export { describeProxyConformance, selectCases } from './describe-proxy-conformance';
export type { ProxyConformanceOptions, StartedProxy } from './describe-proxy-conformance';
export { CALL_ID_KEY } from './types';
export type { ConformanceCase, ConformanceOptions, DeclaredDifferences } from './types';
export { describePeekConformance, peekCases, selectPeekCases } from './describe-peek-conformance';
export type {
  PeekConformanceOptions,
  PeekProxySettings,
  TargetBackend,
} from './describe-peek-conformance';
export { PEEK_RECEIVE_LIMIT } from './peek-case';
export type { PeekCase, PeekCaseContext, PeekEnvironment } from './peek-case';
export { DENIED, DENY_PAYLOAD, PeekLog, peekDirector, ROUTE_TO_B } from './peek-director';
export type {
  PeekCall,
  PeekingDirector,
  PeekOutcome,
  PeekRecord,
  PeekRoute,
} from './peek-director';
export {
  DEFAULT_MIRROR_BUDGET_BYTES,
  describeMirrorConformance,
  MIRROR_CASE_TIMEOUT_MS,
  mirrorCases,
  selectMirrorCases,
} from './describe-mirror-conformance';
export type { MirrorConformanceOptions, MirrorProxySettings } from './describe-mirror-conformance';
export type {
  MirrorCase,
  MirrorCaseContext,
  MirrorEnvironment,
  MirrorExpectations,
} from './mirror-case';
export { MIRROR_TARGET_KEY, MirrorLog, mirrorDirector } from './mirror-director';
export type {
  LoggedMirrorReport,
  MirrorCall,
  MirroredRoute,
  MirroringDirector,
  MirrorReportShape,
  MirrorRouteShape,
  MirrorTarget,
} from './mirror-director';
export { STRICT_MIRROR_RECEIVE_LIMIT } from './mirror-fault-cases';
export { refusedAddress, startSilentHttp2Server } from './silent-http2-server';
export type { SilentHttp2Server } from './silent-http2-server';
export {
  describeFanOutConformance,
  FAN_OUT_CANCELLED_DETAILS,
  fanOutCases,
  selectFanOutCases,
} from './describe-fan-out-conformance';
export type { FanOutConformanceOptions, FanOutProxySettings } from './describe-fan-out-conformance';
export type {
  ExpectedOutcome,
  ExpectedReport,
  FanOutCase,
  FanOutCaseContext,
  FanOutEchoes,
  FanOutEnvironment,
  FanOutExpectations,
} from './fan-out-case';
export {
  FAILING_STATUS,
  FAN_OUT_NAME,
  FAN_OUT_PLAN_KEY,
  FanOutReportLog,
  failureMessage,
  fanOutDirector,
  mergeNames,
  planEntry,
} from './fan-out-director';
export type {
  FanningDirector,
  FanOutCall,
  FanOutCallReportShape,
  FanOutFailureShape,
  FanOutMemberName,
  FanOutOutcomeShape,
  FanOutPlan,
  FanOutRoute,
  FanOutShape,
} from './fan-out-director';
export { startFailingServer } from './fan-out-failing-server';
export type { FailingServer } from './fan-out-failing-server';
