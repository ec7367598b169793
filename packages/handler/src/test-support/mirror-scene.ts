/**
 * The mirror specs' scene: the handler harness (test backend, proxy, raw client) with an observer
 * recording call and mirror reports, a mirror backend and a backend client of it, and one call of
 * each kind sending `abc` as the kind allows.
 */
import { Metadata, status, type Client } from '@grpc/grpc-js';
import {
  callRawBidi,
  callRawClientStream,
  callRawServerStream,
  callRawUnary,
  type CallOutcome,
  type CallSettings,
} from '@grpc-proxy/testing';
import { createBackendClient } from '../backend-client';
import type { CallReport, MirrorReport } from '../contracts';
import type { ProxyHandlerOptions } from '../options';
import { eventually } from './grpc-fixtures';
import { useHarness, type Harness } from './harness';
import { startMirrorBackend, type MirrorBackend } from './mirror-backend';
import { ECHO } from './test-backend';

const ABC = ['a', 'b', 'c'].map((s) => Buffer.from(s));

/** `[kind, method, call, what the client sends, what the test backend answers]`. */
export type MirrorKind = [
  kind: string,
  method: string,
  call: (client: Client, settings: CallSettings) => Promise<CallOutcome<Buffer>>,
  sent: Buffer[],
  responses: Buffer[],
];

export const MIRROR_KINDS: MirrorKind[] = [
  [
    'unary',
    `${ECHO}/Unary`,
    (client, settings) => callRawUnary(client, `${ECHO}/Unary`, Buffer.from('abc'), settings),
    [Buffer.from('abc')],
    [Buffer.from('echo:abc')],
  ],
  [
    'client-streaming',
    `${ECHO}/ClientStream`,
    (client, settings) => callRawClientStream(client, `${ECHO}/ClientStream`, ABC, settings),
    ABC,
    [Buffer.from('n=3:abc')],
  ],
  [
    'server-streaming',
    `${ECHO}/ServerStream`,
    (client, settings) =>
      callRawServerStream(client, `${ECHO}/ServerStream`, Buffer.from('abc'), settings),
    [Buffer.from('abc')],
    [0, 1, 2].map((i) => Buffer.concat([Buffer.from('abc'), Buffer.from([i])])),
  ],
  [
    'bidi',
    `${ECHO}/Bidi`,
    (client, settings) => callRawBidi(client, `${ECHO}/Bidi`, ABC, settings),
    ABC,
    ABC,
  ],
];

/** Request metadata with one entry, `x-test: v`. */
export function testMetadata(): Metadata {
  const metadata = new Metadata();
  metadata.set('x-test', 'v');
  return metadata;
}

export interface MirrorScene extends Harness {
  readonly calls: CallReport[];
  readonly mirrorReports: MirrorReport[];
  mirror: MirrorBackend;
  /** `createBackendClient(mirror.target)`. */
  mirrorClient: Client;
  /** Waits for the first copy's report, and gives the reports (exactly one expected). */
  reported(): Promise<MirrorReport[]>;
  /** The report of a copy of `method` to `mirror` (default: completed OK). */
  copy(
    method: string,
    outcome?: MirrorReport['outcome'],
    code?: status,
    details?: string,
  ): MirrorReport;
}

/** A harness whose proxy (`options` over the defaults) records call and mirror reports. */
export function useMirrorScene(options: ProxyHandlerOptions = {}): MirrorScene {
  const calls: CallReport[] = [];
  const mirrorReports: MirrorReport[] = [];
  const observer = {
    onCallEnd: (report: CallReport) => calls.push(report),
    onMirrorEnd: (report: MirrorReport) => mirrorReports.push(report),
  };
  const h = useHarness({ observer, ...options }) as MirrorScene;
  Object.assign(h, {
    calls,
    mirrorReports,
    reported: async () => {
      await eventually(() => mirrorReports.length > 0, 'a copy reported');
      return mirrorReports;
    },
    copy: (
      method: string,
      outcome: MirrorReport['outcome'] = 'completed',
      code = status.OK,
      details = 'OK',
    ): MirrorReport => ({ method, backend: `dns:${h.mirror.target}`, outcome, code, details }),
  });
  beforeEach(async () => {
    calls.length = 0;
    mirrorReports.length = 0;
    h.mirror = await startMirrorBackend();
    h.mirrorClient = createBackendClient(h.mirror.target);
  });
  afterEach(async () => {
    h.mirrorClient.close();
    await h.mirror.close();
  });
  return h;
}
