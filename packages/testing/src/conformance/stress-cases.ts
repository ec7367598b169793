import { status as Status } from '@grpc/grpc-js';
import {
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  echoRequest,
} from '../client-calls';
import type { CallOutcome } from '../client-calls';
import { patternPayload } from '../payload';
import { pingPong } from './basic-cases';
import { expectBytes, expectEqual, expectStatus } from './check';
import type { CaseContext } from './context';
import { defineCase } from './define-case';

const SEQUENTIAL_PING_PONGS = 50;
const CONCURRENT_CALLS = 100;

/** Starts call number `i` of the mixed batch; returns the outcome and a check of it. */
function mixedCall(context: CaseContext, i: number): Promise<void> {
  const payload = patternPayload(64 + i).subarray(i % 5);
  const request = echoRequest({ payload });
  const call = context.tag();
  const check = (kind: string, outcome: CallOutcome, responses: number, expected: Buffer): void => {
    expectStatus(`${kind} call ${i}`, outcome.status, Status.OK);
    expectEqual(`${kind} call ${i} responses`, outcome.responses.length, responses);
    outcome.responses.forEach((r) => expectBytes(`${kind} call ${i} payload`, r.payload, expected));
  };
  switch (i % 4) {
    case 0:
      return callEcho(context.client, request, call).then((o) => check('unary', o, 1, payload));
    case 1:
      return callServerStream(
        context.client,
        echoRequest({ payload, responseCount: 3 }),
        call,
      ).then((o) => check('server-streaming', o, 3, payload));
    case 2:
      return callClientStream(context.client, [request, request, request], call).then((o) =>
        check('client-streaming', o, 1, Buffer.concat([payload, payload, payload])),
      );
    default:
      return callBidi(context.client, [request, request, request], call).then((o) =>
        check('bidi', o, 3, payload),
      );
  }
}

export const stress = defineCase(
  'stress',
  `${SEQUENTIAL_PING_PONGS} ping-pongs in sequence, then ${CONCURRENT_CALLS} calls of all ` +
    'four kinds at once.',
  async (context) => {
    for (let i = 0; i < SEQUENTIAL_PING_PONGS; i++) {
      await pingPong(context, 20).catch((error: Error) => {
        error.message = `ping-pong ${i + 1} of ${SEQUENTIAL_PING_PONGS}: ${error.message}`;
        throw error;
      });
    }
    const results = await Promise.allSettled(
      Array.from({ length: CONCURRENT_CALLS }, (_, i) => mixedCall(context, i)),
    );
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    if (failures.length > 0) {
      throw new Error(
        `${failures.length} of ${CONCURRENT_CALLS} concurrent calls failed; first: ${failures[0]}`,
      );
    }
  },
  { timeoutMs: 90_000 },
);
