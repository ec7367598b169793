import {
  clientStreaming,
  emptyStream,
  emptyUnary,
  largeUnary,
  pingPongCase,
  serverStreaming,
} from './basic-cases';
import {
  compressedRequestStaysCompressed,
  compressedResponseStaysCompressed,
} from './compression-cases';
import { backendRestartLosesNoCall, idleStreamStaysOpen } from './connection-cases';
import {
  metadata100Entries,
  metadataBinEveryByte,
  metadataValue32KiB,
  metadataValue8KiB,
  noRequestHeadersAdded,
  noResponseHeadersAdded,
} from './header-cases';
import {
  backendEndsFirst,
  cancelAfterBegin,
  cancelAfterFirstResponse,
  deadlinePropagated,
  halfCloseReachesBackend,
  headersFirstThenWait,
  timeoutOnSleepingServer,
} from './lifecycle-cases';
import { customMetadata } from './metadata-cases';
import { opaquePayload, slowReaderGets64MiB } from './payload-cases';
import {
  malformedStatusDetails,
  specialStatusMessage,
  statusCodeAndMessage,
  statusDetails,
  trailersOnlyError,
  unimplementedMethod,
  unimplementedService,
} from './status-cases';
import { stress } from './stress-cases';
import type { ConformanceCase } from './types';

/**
 * Every conformance case, in the order they are best run (cheap ones first, stress and the
 * slow ones last). Each takes a proxy address and the backend the proxy forwards to.
 */
export const conformanceCases: readonly ConformanceCase[] = [
  emptyUnary,
  largeUnary,
  clientStreaming,
  serverStreaming,
  pingPongCase,
  emptyStream,
  opaquePayload,
  customMetadata,
  noRequestHeadersAdded,
  noResponseHeadersAdded,
  metadataValue8KiB,
  metadataValue32KiB,
  metadata100Entries,
  metadataBinEveryByte,
  compressedRequestStaysCompressed,
  compressedResponseStaysCompressed,
  statusCodeAndMessage,
  specialStatusMessage,
  statusDetails,
  malformedStatusDetails,
  trailersOnlyError,
  unimplementedMethod,
  unimplementedService,
  cancelAfterBegin,
  cancelAfterFirstResponse,
  timeoutOnSleepingServer,
  deadlinePropagated,
  headersFirstThenWait,
  halfCloseReachesBackend,
  backendEndsFirst,
  stress,
  backendRestartLosesNoCall,
  slowReaderGets64MiB,
  idleStreamStaysOpen,
];
