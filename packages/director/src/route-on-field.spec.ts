import { status } from '@grpc/grpc-js';
import {
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  createEchoClient,
  echoRequest,
  startEchoServer,
} from '@grpc-proxy/testing';
import type {
  CallOutcome,
  EchoRequest,
  EchoServerHandle,
  EchoServiceClient,
} from '@grpc-proxy/testing';
import { startFieldRoutedProxy, type FieldRoutedProxy } from '../examples/route-on-field';
import { servedBy } from './test-support/calls';

/** The four call kinds; the first request carries `responseCount`, a second one (if any) 50. */
const callKinds: Record<
  string,
  (client: EchoServiceClient, responseCount: number) => Promise<CallOutcome>
> = {
  unary: (client, responseCount) => callEcho(client, echoRequest({ responseCount })),
  serverStream: (client, responseCount) => callServerStream(client, echoRequest({ responseCount })),
  clientStream: (client, responseCount) => callClientStream(client, twoRequests(responseCount)),
  bidi: (client, responseCount) => callBidi(client, twoRequests(responseCount)),
};

function twoRequests(responseCount: number): EchoRequest[] {
  return [echoRequest({ responseCount }), echoRequest({ responseCount: 50 })];
}

describe('the route-on-a-field example, on the grpc-js engine', () => {
  let interactive: EchoServerHandle;
  let bulk: EchoServerHandle;
  let proxy: FieldRoutedProxy;
  let client: EchoServiceClient;

  beforeEach(async () => {
    [interactive, bulk] = await Promise.all(
      ['interactive', 'bulk'].map((name) => startEchoServer({ name })),
    );
    proxy = await startFieldRoutedProxy({ interactive: interactive.address, bulk: bulk.address });
    client = createEchoClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
    interactive.forceClose();
    bulk.forceClose();
  });

  it.each(Object.keys(callKinds))(
    'routes %s calls on the first request message, which the backend gets unchanged',
    async (kind) => {
      const call = callKinds[kind];
      expect(await servedBy(call(client, 3))).toBe('interactive');
      expect(await servedBy(call(client, 20))).toBe('bulk');
      expect(await servedBy(call(client, 10))).toBe('interactive');
      expect([interactive.calls.length, bulk.calls.length]).toEqual([2, 1]);
      // Every request message arrived, the peeked first one first.
      const requests = kind === 'unary' || kind === 'serverStream' ? [] : [50];
      expect(bulk.calls[0].requests.map((request) => request.responseCount)).toEqual([
        20,
        ...requests,
      ]);
    },
  );

  it('streams every response the first message asked for from the backend it chose', async () => {
    const outcome = await callServerStream(client, echoRequest({ responseCount: 12 }));
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((response) => [response.serverName, response.index])).toEqual(
      Array.from({ length: 12 }, (_, index) => ['bulk', index]),
    );
  });

  it('sends a call without any request message to interactive', async () => {
    const outcome = await callBidi(client, []);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toEqual([]);
    expect([interactive.calls.length, bulk.calls.length]).toEqual([1, 0]);
  });
});
