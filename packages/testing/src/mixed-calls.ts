import { Metadata, status } from '@grpc/grpc-js';
import { callBidi, callEcho, echoRequest, openBidi } from './client-calls';
import type { EchoServiceClient } from './gen/grpc_proxy/testing/v1/echo';

/**
 * The kinds of call a leak check mixes, each with the status code its client gets: plain unary
 * and bidi calls, a backend error, a call the proxy's director refuses, a call the client cancels
 * while the backend holds it, and one whose deadline passes while the backend delays.
 */
export const MIXED_CALL_CODES = {
  unary: status.OK,
  bidi: status.OK,
  'backend-error': status.ABORTED,
  'director-error': status.FAILED_PRECONDITION,
  cancel: status.CANCELLED,
  deadline: status.DEADLINE_EXCEEDED,
} as const satisfies Record<string, status>;

/** A kind of call in a mix (see {@link MIXED_CALL_CODES}). */
export type MixedCallKind = keyof typeof MIXED_CALL_CODES;

/** Request metadata key carrying a mixed call's index. */
export const MIXED_CALL_INDEX_KEY = 'x-mixed-call-index';
/** Request metadata key carrying a mixed call's kind: the director refuses `director-error`. */
export const MIXED_CALL_KIND_KEY = 'x-mixed-call-kind';

const KINDS = Object.keys(MIXED_CALL_CODES) as MixedCallKind[];

/** The kind of call `index` of a mix: the kinds in turn, in the order of {@link MIXED_CALL_CODES}. */
export function mixedCallKind(index: number): MixedCallKind {
  return KINDS[index % KINDS.length];
}

/**
 * Runs call `index` of a mix through `client` (an echo client of the proxy under test, in front of
 * an echo server) and resolves with the status code the client got: expect
 * `MIXED_CALL_CODES[mixedCallKind(index)]`. The call carries {@link MIXED_CALL_INDEX_KEY} and
 * {@link MIXED_CALL_KIND_KEY}; the proxy's director must refuse a `director-error` call with
 * `FAILED_PRECONDITION`. Every call has a deadline (60 s; 100 ms for `deadline`), so that a
 * deadline timer left running shows. Never rejects.
 */
export async function runMixedCall(client: EchoServiceClient, index: number): Promise<status> {
  const kind = mixedCallKind(index);
  const metadata = new Metadata();
  metadata.set(MIXED_CALL_INDEX_KEY, String(index));
  metadata.set(MIXED_CALL_KIND_KEY, kind);
  const settings = { metadata, options: { deadline: Date.now() + 60_000 } };
  const payload = Buffer.from([index & 255, index >> 8]);
  switch (kind) {
    case 'unary':
    case 'director-error':
      return (await callEcho(client, echoRequest({ payload }), settings)).status.code;
    case 'backend-error':
      return (await callEcho(client, echoRequest({ statusCode: status.ABORTED }), settings)).status
        .code;
    case 'bidi':
      return (
        await callBidi(client, [echoRequest({ payload }), echoRequest({ payload })], settings)
      ).status.code;
    case 'deadline': {
      const options = { deadline: Date.now() + 100 };
      return (await callEcho(client, echoRequest({ delayMs: 5000 }), { metadata, options })).status
        .code;
    }
    case 'cancel': {
      // Cancelled mid-call, once the first response proved the backend call is open.
      const session = openBidi(client, settings);
      session.call.write(echoRequest({ payload, holdUntilCancelled: true }));
      await session.nextResponse().catch(() => undefined); // its status tells
      session.call.cancel();
      return (await session.outcome).status.code;
    }
  }
}
