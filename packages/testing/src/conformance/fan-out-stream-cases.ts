/** Fan-out cases in 'stream' mode: every backend's messages reach the client as they arrive. */
import { status as Status } from '@grpc/grpc-js';
import type { Metadata } from '@grpc/grpc-js';
import { callServerStream, echoRequest, openBidi } from '../client-calls';
import { HeadersMode } from '../gen/grpc_proxy/testing/v1/echo';
import type { EchoResponse } from '../gen/grpc_proxy/testing/v1/echo';
import { expectEqual, expectStatus, within } from './check';
import { defineFanOutCase, okOutcomes } from './fan-out-case';
import { FAILING_STATUS } from './fan-out-director';
import type { FanOutCaseContext } from './fan-out-case';

/** The echo service's full method name of `method`. */
export function echoMethod(method: 'Echo' | 'ServerStream' | 'ClientStream' | 'Bidi'): string {
  return `/grpc_proxy.testing.v1.EchoService/${method}`;
}

/** The `index`es each server sent, by server name (sorted by name). */
export function indexesByServer(responses: readonly EchoResponse[]): Record<string, number[]> {
  const by: Record<string, number[]> = {};
  for (const response of responses) (by[response.serverName] ??= []).push(response.index);
  return Object.fromEntries(Object.entries(by).sort(([x], [y]) => x.localeCompare(y)));
}

/** `count` indexes from 0 for each echo server named. */
export function indexes(names: readonly string[], count: number): Record<string, number[]> {
  return Object.fromEntries(
    names.map((name) => [name, Array.from({ length: count }, (_, i) => i)]),
  );
}

/** Server names the echo servers `a`, `b`, `c` answer with. */
export function namesOf(context: FanOutCaseContext, servers: readonly ('a' | 'b' | 'c')[]) {
  return servers.map((server) => context.echoes[server].name);
}

/** The values of `key` as one ", "-joined string (none: an empty list). */
function joined(metadata: Metadata, key: string): string[] {
  const values = metadata.get(key);
  return values.length === 0 ? [] : [values.join(', ')];
}

export const fanOutServerStream = defineFanOutCase(
  'fan_out_server_stream',
  'A server-streaming call fanned out to three echo backends gives the client every message of ' +
    'each (4 each, 12 in all, each backend’s in its order), OK; the report counts 1 message from ' +
    'the client, 12 to it, and each backend OK with 4.',
  async (context) => {
    const call = context.planned({ backends: ['a', 'b', 'c'], responses: 'stream' });
    const outcome = await callServerStream(context.client, echoRequest({ responseCount: 4 }), call);
    expectStatus('status the client got', outcome.status, Status.OK);
    expectEqual('messages the client got', outcome.responses.length, 12);
    expectEqual(
      'indexes per backend',
      indexesByServer(outcome.responses),
      indexes(namesOf(context, ['a', 'b', 'c']), 4),
    );
    const method = echoMethod('ServerStream');
    await context.expectReports([{ method, counts: [1, 12], outcomes: okOutcomes(3, 4) }]);
  },
);

export const fanOutBidi = defineFanOutCase(
  'fan_out_bidi',
  'A bidi call fanned out to three echo backends: each client message reaches every backend, ' +
    'and their three replies reach the client before the client sends the next one (messages ' +
    'stream as they arrive); the half-close reaches all three; OK.',
  async (context) => {
    const call = context.planned({ backends: ['a', 'b', 'c'], responses: 'stream' });
    const session = openBidi(context.client, call);
    const names = namesOf(context, ['a', 'b', 'c']);
    for (const word of ['one', 'two']) {
      session.call.write(echoRequest({ payload: Buffer.from(word) }));
      const replies = await within(
        `the three replies to "${word}"`,
        context.stepTimeoutMs,
        Promise.all(names.map(() => session.nextResponse())),
      );
      expectEqual(
        `replies to "${word}"`,
        replies.map((reply) => [reply.serverName, reply.payload.toString()]).sort(),
        names.map((name) => [name, word]),
      );
    }
    session.call.end();
    const outcome = await session.outcome;
    expectStatus('status the client got', outcome.status, Status.OK);
    expectEqual('messages the client got', outcome.responses.length, 6);
    for (const server of ['a', 'b', 'c'] as const) {
      const record = await context.recordOn(server, call, 'the half-closed call', (r) => r.ended);
      expectEqual(
        `requests echo ${server} got`,
        record.requests.map((request) => request.payload.toString()),
        ['one', 'two'],
      );
      expectEqual(`echo ${server} saw the half-close`, record.halfClosed, true);
    }
    await context.expectReports([{ counts: [2, 6], outcomes: okOutcomes(3, 2) }]);
  },
);

export const fanOutHeadersAndTrailers = defineFanOutCase(
  'fan_out_headers_and_trailers',
  'Three backends each send the response header x-fan-head and the trailer x-fan-trail: the ' +
    'client gets one set of headers (x-fan-head once) and the trailers of all three (x-fan-trail ' +
    'three times); with the failing backend among them and onError skip, only the two OK ' +
    'backends’ trailers, and none of the failed one.',
  async (context) => {
    const request = echoRequest({
      responseCount: 1,
      headersMode: HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT,
      responseHeaders: [{ key: 'x-fan-head', value: 'head', binaryValue: Buffer.alloc(0) }],
      responseTrailers: [{ key: 'x-fan-trail', value: 'trail', binaryValue: Buffer.alloc(0) }],
    });
    const all = context.planned({ backends: ['a', 'b', 'c'], responses: 'stream' });
    const outcome = await callServerStream(context.client, request, all);
    expectStatus('status the client got', outcome.status, Status.OK);
    expectEqual('headers events', outcome.events.filter((event) => event === 'headers').length, 1);
    expectEqual('x-fan-head the client got', outcome.headers?.get('x-fan-head'), ['head']);
    // node:http2 joins repeated ASCII fields into one ", "-separated value on receipt.
    expectEqual('x-fan-trail the client got', joined(outcome.status.metadata, 'x-fan-trail'), [
      'trail, trail, trail',
    ]);
    const some = context.planned({
      backends: ['a', 'fail', 'b'],
      responses: 'stream',
      onError: 'skip',
    });
    const skipped = await callServerStream(context.client, request, some);
    expectStatus('status with a skipped failure', skipped.status, Status.OK);
    expectEqual(
      'x-fan-trail with a skipped failure',
      joined(skipped.status.metadata, 'x-fan-trail'),
      ['trail, trail'],
    );
    expectEqual(
      'the failed backend’s trailer',
      skipped.status.metadata.get('x-fan-out-failed'),
      [],
    );
    const failed = { code: FAILING_STATUS.code, proxyError: false };
    await context.expectReports([
      { code: Status.OK, outcomes: okOutcomes(3, 1) },
      { code: Status.OK, outcomes: [okOutcomes(1, 1)[0], failed, okOutcomes(1, 1)[0]] },
    ]);
  },
);

export const fanOutClientCancel = defineFanOutCase(
  'fan_out_client_cancel',
  'A client that cancels a bidi call fanned out to three backends (each holding the call) ' +
    'cancels every backend call; the report says CANCELLED for the call and for each backend, ' +
    'each as the proxy’s status, with 1 message each.',
  async (context) => {
    const call = context.planned({ backends: ['a', 'b', 'c'], responses: 'stream' });
    const session = openBidi(context.client, call);
    session.call.write(echoRequest({ payload: Buffer.from('x'), holdUntilCancelled: true }));
    await within(
      'the three replies',
      context.stepTimeoutMs,
      Promise.all([0, 1, 2].map(() => session.nextResponse())),
    );
    session.call.cancel();
    const outcome = await session.outcome;
    expectStatus('status the client got', outcome.status, Status.CANCELLED);
    for (const server of ['a', 'b', 'c'] as const) {
      await context.recordOn(server, call, 'the cancellation', (record) => record.cancelled);
    }
    const cancelled = {
      code: Status.CANCELLED,
      proxyError: true,
      messages: 1,
      details: context.expectations.cancelledDetails,
    };
    await context.expectReports([
      { code: Status.CANCELLED, outcomes: [cancelled, cancelled, cancelled] },
    ]);
  },
);
