import {
  clientStreaming,
  emptyStream,
  emptyUnary,
  largeUnary,
  pingPongCase,
  serverStreaming,
} from './basic-cases';
import {
  backendEndsFirst,
  cancelAfterBegin,
  cancelAfterFirstResponse,
  halfCloseReachesBackend,
  headersFirstThenWait,
  timeoutOnSleepingServer,
} from './lifecycle-cases';
import { customMetadata } from './metadata-cases';
import {
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
 * Every conformance case, in the order they are best run (cheap ones first, stress last).
 * Each takes a proxy address and the backend the proxy forwards to.
 */
export const conformanceCases: readonly ConformanceCase[] = [
  emptyUnary,
  largeUnary,
  clientStreaming,
  serverStreaming,
  pingPongCase,
  emptyStream,
  customMetadata,
  statusCodeAndMessage,
  specialStatusMessage,
  statusDetails,
  trailersOnlyError,
  unimplementedMethod,
  unimplementedService,
  cancelAfterBegin,
  cancelAfterFirstResponse,
  timeoutOnSleepingServer,
  headersFirstThenWait,
  halfCloseReachesBackend,
  backendEndsFirst,
  stress,
];
