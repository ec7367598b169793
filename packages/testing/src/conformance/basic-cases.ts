import { status as Status } from '@grpc/grpc-js';
import {
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  echoRequest,
  openBidi,
} from '../client-calls';
import type { CallOutcome } from '../client-calls';
import { patternPayload } from '../payload';
import { expectBytes, expectEqual, expectStatus, fail } from './check';
import type { CaseContext } from './context';
import { defineCase } from './define-case';

/** Checks every response came from the backend under test (and not from the proxy itself). */
function expectFromBackend(context: CaseContext, outcome: CallOutcome): void {
  outcome.responses.forEach((response, i) =>
    expectEqual(`server_name of response ${i}`, response.serverName, context.backend.name),
  );
}

export const emptyUnary = defineCase(
  'empty_unary',
  'A unary call with an empty request gets an empty response from the backend.',
  async (context) => {
    const call = context.tag();
    const outcome = await callEcho(context.client, echoRequest(), call);
    expectStatus('status', outcome.status, Status.OK);
    expectEqual('number of responses', outcome.responses.length, 1);
    expectEqual('response payload length', outcome.responses[0].payload.length, 0);
    expectFromBackend(context, outcome);
    const record = await call.backendRecord('the finished call', (c) => c.ended);
    expectEqual('requests the backend received', record.requests.length, 1);
    expectEqual('backend status', record.status?.code, Status.OK);
  },
);

const LARGE = 8 * 1024 * 1024;

export const largeUnary = defineCase(
  'large_unary',
  'A unary call carries 8 MiB each way, byte for byte (message size limits must be raised).',
  async (context) => {
    const call = context.tag();
    const payload = patternPayload(LARGE);
    const outcome = await callEcho(
      context.client,
      echoRequest({ payload, responseSize: LARGE }),
      call,
    );
    expectStatus('status', outcome.status, Status.OK);
    expectEqual('number of responses', outcome.responses.length, 1);
    expectBytes('response payload', outcome.responses[0].payload, payload);
    const record = await call.backendRecord('the finished call', (c) => c.ended);
    expectBytes('request payload the backend received', record.requests[0].payload, payload);
  },
  { timeoutMs: 60_000 },
);

const CLIENT_STREAM_SIZES = [27182, 8, 1828, 45904];

export const clientStreaming = defineCase(
  'client_streaming',
  'Four requests of different sizes reach the backend in order; one response comes back.',
  async (context) => {
    const call = context.tag();
    const payloads = CLIENT_STREAM_SIZES.map((size, i) => patternPayload(size + i).subarray(i));
    const outcome = await callClientStream(
      context.client,
      payloads.map((payload) => echoRequest({ payload })),
      call,
    );
    expectStatus('status', outcome.status, Status.OK);
    expectEqual('number of responses', outcome.responses.length, 1);
    expectEqual('requests the backend counted', outcome.responses[0].requestCount, 4);
    expectBytes('concatenated payloads', outcome.responses[0].payload, Buffer.concat(payloads));
    expectFromBackend(context, outcome);
  },
);

const SERVER_STREAM_SIZE = 31415;

export const serverStreaming = defineCase(
  'server_streaming',
  'Four responses reach the client in order, each intact.',
  async (context) => {
    const call = context.tag();
    const outcome = await callServerStream(
      context.client,
      echoRequest({ responseCount: 4, responseSize: SERVER_STREAM_SIZE }),
      call,
    );
    expectStatus('status', outcome.status, Status.OK);
    expectEqual(
      'response indexes',
      outcome.responses.map((r) => r.index),
      [0, 1, 2, 3],
    );
    const expected = patternPayload(SERVER_STREAM_SIZE);
    outcome.responses.forEach((r, i) =>
      expectBytes(`payload of response ${i}`, r.payload, expected),
    );
    expectFromBackend(context, outcome);
  },
);

/** Runs one lockstep ping-pong of `rounds` messages on a bidi call. */
export async function pingPong(context: CaseContext, rounds: number): Promise<void> {
  const call = context.tag();
  const session = openBidi(context.client, call);
  try {
    for (let i = 0; i < rounds; i++) {
      const payload = patternPayload(100 + i * 37).subarray(i % 7);
      session.call.write(echoRequest({ payload }));
      const response = await session.nextResponse();
      if (i === 0 && !session.headersReceived()) {
        fail('the first response arrived before any response headers');
      }
      expectBytes(`payload of response ${i}`, response.payload, payload);
      expectEqual(`index of response ${i}`, response.index, i);
      expectEqual(`server_name of response ${i}`, response.serverName, context.backend.name);
    }
    session.call.end();
    const outcome = await session.outcome;
    expectStatus('status', outcome.status, Status.OK);
    expectEqual('first event', outcome.events[0], 'headers');
    expectEqual('number of responses', outcome.responses.length, rounds);
  } finally {
    session.call.cancel(); // no-op once the call has ended
  }
}

export const pingPongCase = defineCase(
  'ping_pong',
  'Twenty request/response pairs in lockstep on one bidi call; headers arrive first.',
  (context) => pingPong(context, 20),
);

export const emptyStream = defineCase(
  'empty_stream',
  'A bidi call where the client half-closes at once ends OK with no responses.',
  async (context) => {
    const call = context.tag();
    const outcome = await callBidi(context.client, [], call);
    expectStatus('status', outcome.status, Status.OK);
    expectEqual('number of responses', outcome.responses.length, 0);
    const record = await call.backendRecord('the finished call', (c) => c.ended);
    expectEqual('requests the backend received', record.requests.length, 0);
    expectEqual('backend saw the half-close', record.halfClosed, true);
  },
);
