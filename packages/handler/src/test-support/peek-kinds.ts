/** One call of each kind for the peek specs, with what the test backend answers. */
import type { Client } from '@grpc/grpc-js';
import {
  callRawBidi,
  callRawClientStream,
  callRawServerStream,
  callRawUnary,
  type CallOutcome,
} from '@grpc-proxy/testing';
import { ECHO } from './test-backend';

export const bytes = (...parts: string[]): Buffer[] => parts.map((part) => Buffer.from(part));

/** One call of each kind sending `first` then `-x` (as the kind allows), and what it answers. */
export type Kind = [
  name: string,
  call: (client: Client, first: string) => Promise<CallOutcome<Buffer>>,
  responses: (first: string) => Buffer[],
  /** Messages the client sends. */
  sent: number,
];
export const KINDS: Kind[] = [
  [
    'unary',
    (client, first) => callRawUnary(client, `${ECHO}/Unary`, Buffer.from(first)),
    (first) => bytes(`echo:${first}`),
    1,
  ],
  [
    'client-streaming',
    (client, first) => callRawClientStream(client, `${ECHO}/ClientStream`, bytes(first, '-x')),
    (first) => bytes(`n=2:${first}-x`),
    2,
  ],
  [
    'server-streaming',
    (client, first) => callRawServerStream(client, `${ECHO}/ServerStream`, Buffer.from(first)),
    (first) => [0, 1, 2].map((i) => Buffer.concat([Buffer.from(first), Buffer.from([i])])),
    1,
  ],
  [
    'bidi',
    (client, first) => callRawBidi(client, `${ECHO}/Bidi`, bytes(first, '-x')),
    (first) => bytes(first, '-x'),
    2,
  ],
];
