/** Peek cases: the director routes each call kind on its first message's payload. */
import { status as Status } from '@grpc/grpc-js';
import {
  callClientStream,
  callEcho,
  callServerStream,
  echoRequest,
  openBidi,
} from '../client-calls';
import type { CallOutcome } from '../client-calls';
import { EchoRequest } from '../gen/grpc_proxy/testing/v1/echo';
import { expectBytes, expectEqual, expectStatus, fail } from './check';
import { definePeekCase } from './peek-case';
import type { PeekCaseContext } from './peek-case';

/** The backends in the order the routing cases alternate them. */
const TARGETS = ['a', 'b', 'a', 'b'] as const;
type Target = (typeof TARGETS)[number];

/** A payload the director routes to `target` (its first byte), distinct per call `i`. */
function payloadFor(target: Target, i: number): Buffer {
  return Buffer.from(`${target}: call ${i} of the peek routing case`);
}

/** Checks the director saw exactly `request`'s bytes as the first message of call `callId`. */
export async function expectPeeked(
  context: PeekCaseContext,
  callId: string,
  request: EchoRequest,
): Promise<void> {
  const outcome = await context.settled(callId, 'the director to get the first message');
  if (outcome.kind !== 'message') {
    fail(`the director's firstMessage() gave ${outcome.kind}, expected the first request`);
  }
  expectBytes(
    'the first message the director saw',
    outcome.message,
    Buffer.from(EchoRequest.encode(request).finish()),
  );
}

/** Checks every response came from backend `target`. */
function expectServedBy(context: PeekCaseContext, target: Target, outcome: CallOutcome): void {
  outcome.responses.forEach((response, i) =>
    expectEqual(`server_name of response ${i}`, response.serverName, context.backends[target].name),
  );
}

/** Runs one call per entry of {@link TARGETS} through `runOne`, then checks the counts. */
async function routeEach(
  context: PeekCaseContext,
  runOne: (target: Target, i: number, call: ReturnType<PeekCaseContext['tag']>) => Promise<void>,
): Promise<void> {
  const ids: string[] = [];
  for (const [i, target] of TARGETS.entries()) {
    const call = context.tag();
    ids.push(call.id);
    await runOne(target, i, call);
  }
  expectEqual('calls each backend received', context.backendCounts(ids), { a: 2, b: 2 });
}

export const peekRoutesUnary = definePeekCase(
  'peek_routes_unary',
  'Unary calls go to the backend their request payload names; the director sees each request ' +
    'byte for byte, and the backend gets it intact.',
  (context) =>
    routeEach(context, async (target, i, call) => {
      const request = echoRequest({ payload: payloadFor(target, i) });
      const outcome = await callEcho(context.client, request, call);
      expectStatus(`status of call ${i}`, outcome.status, Status.OK);
      expectEqual(`responses of call ${i}`, outcome.responses.length, 1);
      expectBytes(`response of call ${i}`, outcome.responses[0].payload, request.payload);
      expectServedBy(context, target, outcome);
      await expectPeeked(context, call.id, request);
    }),
);

export const peekRoutesServerStream = definePeekCase(
  'peek_routes_server_stream',
  'Server-streaming calls go to the backend their request names; all three responses come back.',
  (context) =>
    routeEach(context, async (target, i, call) => {
      const request = echoRequest({ payload: payloadFor(target, i), responseCount: 3 });
      const outcome = await callServerStream(context.client, request, call);
      expectStatus(`status of call ${i}`, outcome.status, Status.OK);
      expectEqual(
        `response indexes of call ${i}`,
        outcome.responses.map((r) => r.index),
        [0, 1, 2],
      );
      expectServedBy(context, target, outcome);
      await expectPeeked(context, call.id, request);
    }),
);

export const peekRoutesClientStream = definePeekCase(
  'peek_routes_client_stream',
  'Client-streaming calls go to the backend their first message names (the later ones name ' +
    'none); every message reaches it in order, the peeked one first.',
  (context) =>
    routeEach(context, async (target, i, call) => {
      const requests = [
        payloadFor(target, i),
        Buffer.from('x: second'),
        Buffer.from('y: third'),
      ].map((payload) => echoRequest({ payload }));
      const outcome = await callClientStream(context.client, requests, call);
      expectStatus(`status of call ${i}`, outcome.status, Status.OK);
      expectEqual(`responses of call ${i}`, outcome.responses.length, 1);
      expectEqual(`requests the backend counted (call ${i})`, outcome.responses[0].requestCount, 3);
      expectBytes(
        `concatenated payloads of call ${i}`,
        outcome.responses[0].payload,
        Buffer.concat(requests.map((r) => r.payload)),
      );
      expectServedBy(context, target, outcome);
      await expectPeeked(context, call.id, requests[0]);
    }),
);

export const peekRoutesBidi = definePeekCase(
  'peek_routes_bidi',
  'Bidi calls in lockstep go to the backend their first message names; each later message ' +
    'reaches the same backend and is answered in order.',
  (context) =>
    routeEach(context, async (target, i, call) => {
      const session = openBidi(context.client, call);
      try {
        const requests = [
          payloadFor(target, i),
          Buffer.from('x: second'),
          Buffer.from('y: third'),
        ].map((payload) => echoRequest({ payload }));
        for (const [round, request] of requests.entries()) {
          session.call.write(request);
          const response = await session.nextResponse();
          expectBytes(`response ${round} of call ${i}`, response.payload, request.payload);
          expectEqual(`index of response ${round}`, response.index, round);
          expectEqual(
            `server_name of response ${round}`,
            response.serverName,
            context.backends[target].name,
          );
        }
        session.call.end();
        const outcome = await session.outcome;
        expectStatus(`status of call ${i}`, outcome.status, Status.OK);
        expectEqual(`responses of call ${i}`, outcome.responses.length, 3);
        await expectPeeked(context, call.id, requests[0]);
      } finally {
        session.call.cancel(); // no-op once the call has ended
      }
    }),
);
