/**
 * Peek cases at the edges: no first message, one over the limit, a call that ends while the
 * director awaits, a director that rejects after the peek, a compressed first message.
 */
import { status as Status } from '@grpc/grpc-js';
import { callBidi, callClientStream, callEcho, echoRequest, openBidi } from '../client-calls';
import { patternPayload } from '../payload';
import { expectBytes, expectEqual, expectStatus, fail, show, statusCodeLabel } from './check';
import { definePeekCase, PEEK_RECEIVE_LIMIT } from './peek-case';
import type { PeekCaseContext } from './peek-case';
import { DENIED, DENY_PAYLOAD, ROUTE_TO_B } from './peek-director';
import type { PeekOutcome } from './peek-director';
import { expectPeeked } from './peek-routing-cases';
import { openRawPeekCall } from './peek-raw-call';
import type { RawPeekCall } from './peek-raw-call';
import { tapCall } from './wire-taps';

/** Checks `firstMessage()` rejected with a status error of `code` (and `details` when given). */
function expectRejected(outcome: PeekOutcome, code: number, details?: string): void {
  if (outcome.kind !== 'rejected') {
    fail(`the director's firstMessage() gave ${outcome.kind}, expected a rejection`);
  }
  if (outcome.code !== code) {
    fail(
      `the director's firstMessage() rejected with code ${show(outcome.code)} ` +
        `(${show(String(outcome.error))}), expected ${statusCodeLabel(code)}`,
    );
  }
  if (details !== undefined) {
    expectEqual(
      'message of the rejection (the status the call ended with)',
      outcome.details,
      details,
    );
  }
}

export const peekNullOnHalfClose = definePeekCase(
  'peek_null_on_half_close',
  'A client-streaming and a bidi call that half-close without a message give the director null; ' +
    'both are routed and answered OK with nothing received.',
  async (context) => {
    const stream = context.tag();
    const streamed = await callClientStream(context.client, [], stream);
    expectStatus('status of the client-streaming call', streamed.status, Status.OK);
    expectEqual('requests the backend counted', streamed.responses[0]?.requestCount, 0);
    const bidi = context.tag();
    const bidiOutcome = await callBidi(context.client, [], bidi);
    expectStatus('status of the bidi call', bidiOutcome.status, Status.OK);
    expectEqual('responses of the bidi call', bidiOutcome.responses.length, 0);
    for (const call of [stream, bidi]) {
      const outcome = await context.settled(call.id, 'the director to get null');
      expectEqual("what the director's firstMessage() gave", outcome.kind, 'null');
    }
    expectEqual('calls each backend received', context.backendCounts([stream.id, bidi.id]), {
      a: 2,
      b: 0,
    });
    const record = await bidi.backendRecord('the finished bidi call', (c) => c.ended);
    expectEqual('the backend saw the half-close', record.halfClosed, true);
  },
);

export const peekOverLimit = definePeekCase(
  'peek_over_limit',
  `A first message over the proxy's receive limit (${PEEK_RECEIVE_LIMIT} bytes) ends the call ` +
    'with RESOURCE_EXHAUSTED naming the limit; the director awaiting it gets that status as a ' +
    'rejection and rethrows it; no backend sees the call.',
  async (context) => {
    const call = context.tag();
    const request = echoRequest({ payload: patternPayload(PEEK_RECEIVE_LIMIT) });
    const outcome = await callEcho(context.client, request, call);
    if (outcome.status.code === Status.OK) {
      fail(
        `a ${PEEK_RECEIVE_LIMIT + 4}-byte request went through: the proxy did not apply ` +
          `maxReceiveMessageLength ${PEEK_RECEIVE_LIMIT} from startProxy's settings (apply it, ` +
          `or skip 'peek_over_limit' if the proxy cannot)`,
      );
    }
    expectStatus('status', outcome.status, Status.RESOURCE_EXHAUSTED);
    if (!outcome.status.details.includes(String(PEEK_RECEIVE_LIMIT))) {
      fail(`the status message ${show(outcome.status.details)} does not name the limit`);
    }
    const peeked = await context.settled(call.id, "the director's firstMessage() to settle");
    expectRejected(peeked, Status.RESOURCE_EXHAUSTED, outcome.status.details);
    expectEqual('calls each backend received', context.backendCounts([call.id]), { a: 0, b: 0 });
  },
);

export const peekCancelSettles = definePeekCase(
  'peek_cancel_settles',
  'A grpc-js client that cancels while the director awaits its first message: the director’s ' +
    'promise settles within a step timeout, rejected with CANCELLED, or null (a Node client ' +
    'half-closes before its RST_STREAM); the client gets CANCELLED; backend b sees nothing.',
  async (context) => {
    const call = context.tag();
    const session = openBidi(context.client, call);
    try {
      await context.log.waitFor(call.id, 'the director to be asked', context.stepTimeoutMs);
      session.call.cancel();
      const peeked = await context.settled(call.id, "the director's firstMessage() to settle");
      if (peeked.kind !== 'null') expectRejected(peeked, Status.CANCELLED);
      expectStatus("the client's status", (await session.outcome).status, Status.CANCELLED);
      const counts = context.backendCounts([call.id]);
      expectEqual('calls each backend received', counts, {
        a: peeked.kind === 'null' ? counts.a : 0,
        b: 0,
      });
    } finally {
      session.call.cancel(); // no-op once the call has ended
    }
  },
);

/**
 * Opens a raw call that sends nothing (with a `grpc-timeout` of `timeoutMs`, if given), waits
 * until the director awaits its first message, lets `end` end it, and checks the director's
 * promise rejects with `code`, the client gets `clientCode`, and no backend sees the call.
 */
async function endWhilePeeking(
  context: PeekCaseContext,
  timeoutMs: number | undefined,
  end: (call: RawPeekCall) => void,
  code: Status,
  clientCode: Status | undefined,
): Promise<void> {
  const id = context.tag().id;
  const call = openRawPeekCall(context.proxyAddress, id, timeoutMs);
  try {
    await context.log.waitFor(id, 'the director to be asked', context.stepTimeoutMs);
    end(call);
    expectRejected(await context.settled(id, "the director's firstMessage() to settle"), code);
    expectEqual("the client's grpc-status", await call.status, clientCode);
    expectEqual('calls each backend received', context.backendCounts([id]), { a: 0, b: 0 });
  } finally {
    call.close();
  }
}

export const peekConnectionLostSettles = definePeekCase(
  'peek_connection_lost_settles',
  'A client whose connection drops while the director awaits its first message (no ' +
    'half-close): the director’s promise rejects with CANCELLED within a step timeout; no ' +
    'backend sees the call.',
  (context) =>
    endWhilePeeking(context, undefined, (call) => call.drop(), Status.CANCELLED, undefined),
);

/** The `grpc-timeout` of `peek_deadline_settles`: long enough for the call to reach the director. */
const PEEK_DEADLINE_MS = 1_000;

export const peekDeadlineSettles = definePeekCase(
  'peek_deadline_settles',
  `A client that sends nothing before its deadline (grpc-timeout ${PEEK_DEADLINE_MS} ms) and ` +
    'never cancels: the director’s promise rejects with DEADLINE_EXCEEDED within a step timeout ' +
    'of it; the client gets DEADLINE_EXCEEDED from the proxy; no backend sees the call.',
  (context) =>
    endWhilePeeking(
      context,
      PEEK_DEADLINE_MS,
      () => undefined,
      Status.DEADLINE_EXCEEDED,
      Status.DEADLINE_EXCEEDED,
    ),
);

export const peekDirectorRejects = definePeekCase(
  'peek_director_rejects',
  'A director that reads the first message and then rejects the call with a status error: the ' +
    'client gets exactly that code and message; no backend sees the call.',
  async (context) => {
    const call = context.tag();
    const request = echoRequest({ payload: DENY_PAYLOAD });
    const outcome = await callEcho(context.client, request, call);
    expectStatus('status', outcome.status, DENIED.code, DENIED.details);
    await expectPeeked(context, call.id, request);
    expectEqual('calls each backend received', context.backendCounts([call.id]), { a: 0, b: 0 });
  },
);

/** grpc-js's number for gzip in `grpc.default_compression_algorithm`. */
const GZIP = 2;

export const peekCompressedFirstMessage = definePeekCase(
  'peek_compressed_first_message',
  'A gzip client: the director sees the first message inflated, and routes on it; backend b ' +
    'gets both messages intact, the first as it came (compressed) unless the proxy declares it ' +
    'inflates messages.',
  async (context) => {
    const client = context.newClient('proxy', { 'grpc.default_compression_algorithm': GZIP });
    const call = context.tag();
    const wire = tapCall(call.id, context.proxyAddress, context.backends.b.port);
    try {
      const requests = [
        Buffer.concat([Buffer.from([ROUTE_TO_B]), patternPayload(20_000)]),
        patternPayload(20_001),
      ].map((payload) => echoRequest({ payload }));
      const outcome = await callClientStream(client, requests, call);
      expectStatus('status', outcome.status, Status.OK);
      expectEqual('server_name', outcome.responses[0]?.serverName, context.backends.b.name);
      expectBytes(
        'concatenated payloads',
        outcome.responses[0].payload,
        Buffer.concat(requests.map((r) => r.payload)),
      );
      await expectPeeked(context, call.id, requests[0]);
      const first = wire.backend.messages[0];
      if (first === undefined) fail('backend b received no message on the wire');
      const inflates = context.options.declared?.inflatesCompressedMessages === true;
      expectEqual(
        `the first message at backend b is compressed${inflates ? ' (the proxy declares it inflates)' : ''}`,
        first.compressed,
        !inflates,
      );
      expectEqual('calls each backend received', context.backendCounts([call.id]), { a: 0, b: 1 });
    } finally {
      wire.stop();
    }
  },
);
