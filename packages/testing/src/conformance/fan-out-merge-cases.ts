/** Fan-out cases in 'merge' mode: the client gets one message made of every backend's. */
import { status as Status } from '@grpc/grpc-js';
import { callClientStream, callEcho, echoRequest } from '../client-calls';
import { expectEqual, expectStatus } from './check';
import { defineFanOutCase, okOutcomes } from './fan-out-case';
import { echoMethod, namesOf } from './fan-out-stream-cases';
import { CALL_ID_KEY } from './types';

export const fanOutUnaryMerge = defineFanOutCase(
  'fan_out_unary_merge',
  'A unary call fanned out to backends c, a, b in that order gives the client one response: ' +
    'their responses concatenated in backend order, a protobuf merge — the repeated field ' +
    'request_metadata holds the call id three times, the scalar server_name is b’s (the last); ' +
    'the report counts 1 message each way and each backend OK with 1.',
  async (context) => {
    const call = context.planned({ backends: ['c', 'a', 'b'], responses: 'merge' });
    const request = echoRequest({ payload: Buffer.from('merged'), echoMetadata: true });
    const outcome = await callEcho(context.client, request, call);
    expectStatus('status the client got', outcome.status, Status.OK);
    expectEqual('responses the client got', outcome.responses.length, 1);
    const [merged] = outcome.responses;
    const ids = merged.requestMetadata.filter((entry) => entry.key === CALL_ID_KEY);
    expectEqual(
      'call ids in the merged request_metadata',
      ids.map((entry) => entry.value),
      [call.id, call.id, call.id],
    );
    expectEqual('merged server_name', merged.serverName, namesOf(context, ['b'])[0]);
    expectEqual('merged payload', merged.payload.toString(), 'merged');
    const method = echoMethod('Echo');
    await context.expectReports([{ method, counts: [1, 1], outcomes: okOutcomes(3, 1) }]);
  },
);

export const fanOutCustomMerge = defineFanOutCase(
  'fan_out_custom_merge',
  'A client-streaming call (two messages) fanned out to a, b, c with a merge function gives the ' +
    'client what the function made of their responses, given in backend order: server names ' +
    '"a+b+c", payloads concatenated; each backend got both messages and the half-close.',
  async (context) => {
    const call = context.planned({ backends: ['a', 'b', 'c'], responses: 'merge', merge: 'names' });
    const requests = ['x', 'y'].map((word) => echoRequest({ payload: Buffer.from(word) }));
    const outcome = await callClientStream(context.client, requests, call);
    expectStatus('status the client got', outcome.status, Status.OK);
    expectEqual('responses the client got', outcome.responses.length, 1);
    const [merged] = outcome.responses;
    expectEqual(
      'merged server_name',
      merged.serverName,
      namesOf(context, ['a', 'b', 'c']).join('+'),
    );
    expectEqual('merged payload', merged.payload.toString(), 'xyxyxy');
    for (const server of ['a', 'b', 'c'] as const) {
      const record = await context.recordOn(server, call, 'the whole call', (r) => r.ended);
      expectEqual(`requests echo ${server} got`, record.requests.length, 2);
      expectEqual(`echo ${server} saw the half-close`, record.halfClosed, true);
    }
    await context.expectReports([{ counts: [2, 1], outcomes: okOutcomes(3, 1) }]);
  },
);
