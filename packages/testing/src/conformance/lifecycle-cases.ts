import { status as Status } from '@grpc/grpc-js';
import type { EchoCallRecord } from '../call-log';
import { callEcho, echoRequest, openBidi } from '../client-calls';
import type { BidiSession } from '../client-calls';
import { HeadersMode } from '../gen/grpc_proxy/testing/v1/echo';
import type { MetadataEntry } from '../gen/grpc_proxy/testing/v1/echo';
import { entriesFromPairs } from '../metadata-entries';
import { expectEqual, expectStatus, fail, within } from './check';
import type { CaseContext, TaggedCall } from './context';
import { defineCase } from './define-case';

/**
 * Awaits the end of the backend's side of `call`, which the client has just cancelled, and
 * fails unless the backend saw the cancellation. The backend's calls here hold until cancelled
 * (`hold_until_cancelled`), so a backend call that does not end within a step timeout is one
 * the cancellation never reached.
 */
async function expectBackendCancelled(
  context: CaseContext,
  call: TaggedCall,
): Promise<EchoCallRecord> {
  const record = await call
    .backendRecord('the cancellation', (c) => c.ended)
    .catch(() =>
      fail(
        'the backend did not see the cancellation: its call was still running ' +
          `${context.stepTimeoutMs} ms after the client cancelled`,
      ),
    );
  if (!record.cancelled) {
    const end = record.deadlineExceeded ? 'its deadline' : `status ${record.status?.code}`;
    fail(`the backend did not see the cancellation: its call ended with ${end}`);
  }
  return record;
}

// Both cancellation cases ask the backend to hold the call until it is cancelled: a grpc-js
// client that cancels half-closes just before it resets the stream, and when the two reach the
// backend in separate reads (across processes, say), a backend that ended the call on the
// half-close would finish with OK before the reset arrived, proxy or not.

export const cancelAfterBegin = defineCase(
  'cancel_after_begin',
  'A client-streaming call cancelled once the backend has it, before any response, is ' +
    'cancelled on the backend too.',
  async (context) => {
    const call = context.tag();
    const stream = context.client.clientStream(call.metadata, call.options, () => undefined);
    const status = new Promise<number>((resolve) => stream.on('status', (s) => resolve(s.code)));
    try {
      stream.write(echoRequest({ payload: Buffer.from('begin'), holdUntilCancelled: true }));
      await call.backendRecord('the first request', (c) => c.requests.length === 1);
    } finally {
      stream.cancel();
    }
    expectEqual('client status', await status, Status.CANCELLED);
    const record = await expectBackendCancelled(context, call);
    expectEqual('requests the backend received', record.requests.length, 1);
    expectEqual('responses the backend sent', record.responses.length, 0);
  },
);

export const cancelAfterFirstResponse = defineCase(
  'cancel_after_first_response',
  'A bidi call cancelled after its first response is cancelled on the backend too.',
  async (context) => {
    const call = context.tag();
    const session = openBidi(context.client, call);
    session.call.write(echoRequest({ payload: Buffer.from('first'), holdUntilCancelled: true }));
    await session.nextResponse();
    session.call.cancel();
    expectStatus('client status', (await session.outcome).status, Status.CANCELLED);
    const record = await expectBackendCancelled(context, call);
    expectEqual('responses the backend sent', record.responses.length, 1);
  },
);

const SLEEPING_DEADLINE_MS = 1000;

export const timeoutOnSleepingServer = defineCase(
  'timeout_on_sleeping_server',
  'A call whose deadline passes while the backend sleeps ends DEADLINE_EXCEEDED, and the ' +
    "backend's call is cut short (by the deadline or a cancellation) rather than left running.",
  async (context) => {
    const call = context.tag(Date.now() + SLEEPING_DEADLINE_MS);
    const outcome = await callEcho(context.client, echoRequest({ delayMs: 60_000 }), call);
    expectStatus('client status', outcome.status, Status.DEADLINE_EXCEEDED);
    const record = await call
      .backendRecord('the end of the call', (c) => c.ended)
      .catch(() =>
        fail(
          `the backend's call was still running ${context.stepTimeoutMs} ms after the client's ` +
            'deadline passed',
        ),
      );
    if (!record.cancelled && !record.deadlineExceeded) {
      fail(`the backend call ended with status ${record.status?.code} instead of being cut short`);
    }
  },
);

/** An odd deadline, so that a proxy that rounds it up or sets its own shows. */
const PROPAGATED_DEADLINE_MS = 7_321;

export const deadlinePropagated = defineCase(
  'deadline_propagated',
  "The backend sees a deadline (grpc-timeout) no later than the client's: the time the client " +
    'gave the call, minus what has passed, never more.',
  async (context) => {
    const start = Date.now();
    const call = context.tag(start + PROPAGATED_DEADLINE_MS);
    const outcome = await callEcho(context.client, echoRequest(), call);
    expectStatus('status', outcome.status, Status.OK);
    const record = await call.backendRecord('the call', (c) => c.requests.length === 1);
    const seen = record.deadlineRemainingMs;
    if (seen < 0) fail('the backend saw no deadline (no grpc-timeout reached it)');
    if (seen > PROPAGATED_DEADLINE_MS) {
      fail(
        `the backend saw ${seen} ms left, more than the ${PROPAGATED_DEADLINE_MS} ms the client ` +
          'gave the call',
      );
    }
  },
);

/**
 * Opens a tagged bidi call and sends its first message, asking the backend to send headers at
 * once and then wait for the client's next message or half-close before answering.
 */
function openHeadersFirst(
  context: CaseContext,
  payload: string,
  responseHeaders: MetadataEntry[] = [],
): { call: TaggedCall; session: BidiSession } {
  const call = context.tag();
  const session = openBidi(context.client, call);
  session.call.write(
    echoRequest({
      payload: Buffer.from(payload),
      headersMode: HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT,
      responseHeaders,
    }),
  );
  return { call, session };
}

export const headersFirstThenWait = defineCase(
  'headers_first_then_wait',
  'Response headers sent before any message reach the client while the backend waits for the ' +
    'client: a proxy holding headers until the first message would deadlock here.',
  async (context) => {
    const { session } = openHeadersFirst(
      context,
      'first',
      entriesFromPairs([['x-backend-early', 'yes']]),
    );
    let headers;
    try {
      headers = await within('response headers', context.stepTimeoutMs, session.headers());
    } catch (error) {
      session.call.cancel();
      fail(
        'response headers the backend sent before any message never reached the client ' +
          `(${(error as Error).message}); does the proxy hold headers until the first message?`,
      );
    }
    expectEqual('early header', headers.get('x-backend-early'), ['yes']);
    session.call.write(echoRequest({ payload: Buffer.from('second') }));
    expectEqual('first payload', (await session.nextResponse()).payload.toString(), 'first');
    expectEqual('second payload', (await session.nextResponse()).payload.toString(), 'second');
    session.call.end();
    expectStatus('status', (await session.outcome).status, Status.OK);
  },
);

export const halfCloseReachesBackend = defineCase(
  'half_close_reaches_backend',
  "The client's half-close reaches the backend at once, while the call is still open: the " +
    'backend holds its answer until it sees the half-close.',
  async (context) => {
    const { call, session } = openHeadersFirst(context, 'held');
    // Waits on the backend, not on response headers: this case checks the half-close only.
    await call.backendRecord('the first request', (c) => c.requests.length === 1);
    session.call.end();
    const outcome = await within(
      'the answer the backend gives once it sees the half-close',
      context.stepTimeoutMs,
      session.outcome,
    ).catch((error: Error) =>
      fail(`${error.message}; does the proxy pass the client's half-close on to the backend?`),
    );
    expectStatus('status', outcome.status, Status.OK);
    expectEqual(
      'responses',
      outcome.responses.map((r) => r.payload.toString()),
      ['held'],
    );
    const record = await call.backendRecord('the end of the call', (c) => c.ended);
    expectEqual('backend saw the half-close', record.halfClosed, true);
  },
);

export const backendEndsFirst = defineCase(
  'backend_ends_first',
  'The backend ends the call (OK with trailers, or an error) while the client side is still ' +
    'open: the client gets the status without half-closing.',
  async (context) => {
    for (const code of [Status.OK, Status.ABORTED]) {
      const call = context.tag();
      const session = openBidi(context.client, call);
      session.call.write(
        echoRequest({
          statusCode: code,
          statusMessage: code === Status.OK ? '' : 'ended by the backend',
          statusAfter: 1,
          responseTrailers: entriesFromPairs([['x-backend-final', 'sent']]),
        }),
      );
      const outcome = await within(
        'the status while the client side is open',
        context.stepTimeoutMs,
        session.outcome,
      );
      session.call.end();
      expectStatus(`status ${code}`, outcome.status, code);
      expectEqual(`responses before status ${code}`, outcome.responses.length, 1);
      expectEqual(`trailer with status ${code}`, outcome.status.metadata.get('x-backend-final'), [
        'sent',
      ]);
      const record = await call.backendRecord('the end of the call', (c) => c.ended);
      expectEqual('backend saw a half-close', record.halfClosed, false);
      expectEqual('backend saw a cancellation', record.cancelled, false);
    }
  },
);
