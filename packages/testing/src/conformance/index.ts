export { conformanceCases } from './cases';
export { ConformanceError } from './check';
export { describeProxyConformance, selectCases } from './describe-proxy-conformance';
export type { ProxyConformanceOptions, StartedProxy } from './describe-proxy-conformance';
export { CALL_ID_KEY } from './types';
export type { ConformanceCase, ConformanceOptions, DeclaredDifferences } from './types';
