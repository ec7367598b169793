/** Fan-out cases where a backend fails: the onError policies, all failed, unreachable. */
import { status as Status } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import { callEcho, callServerStream, echoRequest } from '../client-calls';
import { expectEqual, expectStatus, fail } from './check';
import { defineFanOutCase, okOutcomes } from './fan-out-case';
import type { ExpectedOutcome, FanOutCaseContext } from './fan-out-case';
import { FAILING_STATUS } from './fan-out-director';
import { indexes, indexesByServer, namesOf } from './fan-out-stream-cases';
import { CALL_ID_KEY } from './types';

const FAILED: ExpectedOutcome = {
  code: FAILING_STATUS.code,
  details: FAILING_STATUS.details,
  proxyError: false,
  messages: 0,
};

const [OK_TWO] = okOutcomes(1, 2);

/** What the `onError: 'message'` function says of the failing backend. */
const FAILURE_SAID = `${FAILING_STATUS.code} ${FAILING_STATUS.details} ${FAILING_STATUS.trailerValue}`;

/** A server-streaming request for two responses from each echo backend. */
const TWO_EACH = echoRequest({ responseCount: 2 });

/** A request the echo backends hold without answering until their call is cancelled. */
const HELD = echoRequest({ holdUntilCancelled: true });

/** Checks the client got the failing backend's status exactly: code, message and trailer. */
function expectFailingStatus(what: string, got: StatusObject): void {
  expectStatus(what, got, FAILING_STATUS.code, FAILING_STATUS.details);
  const trailer = got.metadata.get(FAILING_STATUS.trailerKey);
  expectEqual(`${what}: trailer ${FAILING_STATUS.trailerKey}`, trailer, [
    FAILING_STATUS.trailerValue,
  ]);
}

/** The cancelled outcome of a backend the proxy stopped when the call ended. */
function cancelledBy(context: FanOutCaseContext): ExpectedOutcome {
  return {
    code: Status.CANCELLED,
    proxyError: true,
    details: context.expectations.cancelledDetails,
  };
}

export const fanOutFirstError = defineFanOutCase(
  'fan_out_first_error',
  'With onError first-error (the default), a backend failing while two others hold the call ' +
    'ends it with that backend’s status exactly (code, message, trailer), no message; the two ' +
    'others see their call cancelled; the report has their outcomes CANCELLED by the proxy.',
  async (context) => {
    const call = context.planned({ backends: ['a', 'b', 'fail'], responses: 'stream' });
    const outcome = await callServerStream(context.client, HELD, call);
    expectFailingStatus('status the client got', outcome.status);
    expectEqual('messages the client got', outcome.responses.length, 0);
    for (const server of ['a', 'b'] as const) {
      await context.recordOn(server, call, 'the cancellation', (record) => record.cancelled);
    }
    const cancelled = { ...cancelledBy(context), messages: 0 };
    const { code, details } = FAILING_STATUS;
    await context.expectReports([{ code, details, outcomes: [cancelled, cancelled, FAILED] }]);
  },
);

export const fanOutSkip = defineFanOutCase(
  'fan_out_skip',
  'With onError skip, a failing backend between two echo backends is left out: the client gets ' +
    'the 4 messages of the two others and OK; the report has the failure’s own status.',
  async (context) => {
    const plan = { backends: ['a', 'fail', 'b'], responses: 'stream', onError: 'skip' } as const;
    const call = context.planned(plan);
    const outcome = await callServerStream(context.client, TWO_EACH, call);
    expectStatus('status the client got', outcome.status, Status.OK);
    expectEqual(
      'indexes per backend',
      indexesByServer(outcome.responses),
      indexes(namesOf(context, ['a', 'b']), 2),
    );
    await context.expectReports([{ counts: [1, 4], outcomes: [OK_TWO, FAILED, OK_TWO] }]);
  },
);

export const fanOutErrorToMessage = defineFanOutCase(
  'fan_out_error_to_message',
  'With an onError function, a failure becomes the message it returns, given the failure’s ' +
    'index, code, message and trailers: streamed with the others’ messages (5 in all, OK); ' +
    'merged in the failed backend’s place in backend order (a’s fields, then it, then c’s).',
  async (context) => {
    const streamed = context.planned({
      backends: ['a', 'fail', 'b'],
      responses: 'stream',
      onError: 'message',
    });
    const outcome = await callServerStream(context.client, TWO_EACH, streamed);
    expectStatus('status the client got', outcome.status, Status.OK);
    expectEqual('messages the client got', outcome.responses.length, 5);
    const made = outcome.responses.filter((response) => response.serverName === 'failed:1');
    expectEqual(
      'the failure’s message',
      made.map((response) => response.requestMetadata.map((entry) => entry.value)),
      [[FAILURE_SAID]],
    );
    const merged = context.planned({
      backends: ['a', 'fail', 'c'],
      responses: 'merge',
      onError: 'message',
    });
    const one = await callEcho(context.client, echoRequest({ echoMetadata: true }), merged);
    expectStatus('status of the merged call', one.status, Status.OK);
    expectEqual('responses of the merged call', one.responses.length, 1);
    const keys = one.responses[0].requestMetadata.map((entry) => entry.key);
    const at = keys.indexOf('fan-out-failure');
    if (at === -1) fail(`the merged response has no fan-out-failure entry: ${keys.join(', ')}`);
    const ids = (list: string[]) => list.filter((key) => key === CALL_ID_KEY).length;
    expectEqual(
      'call ids before and after the failure’s entry',
      [ids(keys.slice(0, at)), ids(keys.slice(at + 1))],
      [1, 1],
    );
    expectEqual(
      'merged server_name (c is last)',
      one.responses[0].serverName,
      namesOf(context, ['c'])[0],
    );
    const [okOne] = okOutcomes(1, 1);
    await context.expectReports([
      { counts: [1, 5], outcomes: [OK_TWO, FAILED, OK_TWO] },
      { counts: [1, 1], outcomes: [okOne, FAILED, okOne] },
    ]);
  },
);

export const fanOutAllFailed = defineFanOutCase(
  'fan_out_all_failed',
  'When no backend ends OK and no failure becomes a message — onError skip with two failing ' +
    'backends, or a function returning null — the call ends with the first failure’s status, ' +
    'trailer included.',
  async (context) => {
    const skipped = context.planned({
      backends: ['fail', 'fail'],
      responses: 'stream',
      onError: 'skip',
    });
    const both = await callServerStream(context.client, TWO_EACH, skipped);
    expectFailingStatus('status with onError skip', both.status);
    const dropped = context.planned({ backends: ['fail'], responses: 'merge', onError: 'null' });
    const one = await callEcho(context.client, echoRequest(), dropped);
    expectFailingStatus('status with an onError returning null', one.status);
    expectEqual('messages the client got', [both.responses.length, one.responses.length], [0, 0]);
    const { code, details } = FAILING_STATUS;
    await context.expectReports([
      { code, details, outcomes: [FAILED, FAILED] },
      { code, details, outcomes: [FAILED] },
    ]);
  },
);

export const fanOutUnreachableBackend = defineFanOutCase(
  'fan_out_unreachable_backend',
  'A backend whose address refuses connections is a failure like any other, UNAVAILABLE from ' +
    'the proxy: skipped, the others’ 4 messages reach the client with OK; with first-error, the ' +
    'call ends UNAVAILABLE and the held echo backend is cancelled.',
  async (context) => {
    const plan = { backends: ['a', 'refused', 'b'], responses: 'stream', onError: 'skip' } as const;
    const outcome = await callServerStream(context.client, TWO_EACH, context.planned(plan));
    expectStatus('status with onError skip', outcome.status, Status.OK);
    expectEqual(
      'indexes per backend',
      indexesByServer(outcome.responses),
      indexes(namesOf(context, ['a', 'b']), 2),
    );
    const first = context.planned({ backends: ['a', 'refused'], responses: 'stream' });
    const ended = await callServerStream(context.client, HELD, first);
    expectStatus('status with first-error', ended.status, Status.UNAVAILABLE);
    const refused = { code: Status.UNAVAILABLE, proxyError: true, messages: 0 };
    await context.expectReports([
      { code: Status.OK, outcomes: [OK_TWO, refused, OK_TWO] },
      { code: Status.UNAVAILABLE, outcomes: [{ ...cancelledBy(context), messages: 0 }, refused] },
    ]);
  },
);
