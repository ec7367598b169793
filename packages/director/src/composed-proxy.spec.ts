import { Metadata, status } from '@grpc/grpc-js';
import {
  callBidi,
  callClientStream,
  callEcho,
  callRawUnary,
  callServerStream,
  createEchoClient,
  echoRequest,
  startEchoServer,
} from '@grpc-proxy/testing';
import type { CallOutcome, EchoServerHandle, EchoServiceClient } from '@grpc-proxy/testing';
import type { ComposedProxy } from '../examples/composed-proxy';
import { startComposedProxy } from '../examples/composed-proxy';
import { servedBy, untilStatus } from './test-support/calls';

const twoRequests = ['1', '2'].map((payload) => echoRequest({ payload: Buffer.from(payload) }));

/** The four call kinds, each answering with the names of the servers that answered. */
const callKinds: Record<
  string,
  (client: EchoServiceClient, metadata: Metadata) => Promise<CallOutcome>
> = {
  unary: (client, metadata) =>
    callEcho(client, echoRequest({ payload: Buffer.from('u') }), { metadata }),
  serverStream: (client, metadata) =>
    callServerStream(client, echoRequest({ responseCount: 2 }), { metadata }),
  clientStream: (client, metadata) => callClientStream(client, twoRequests, { metadata }),
  bidi: (client, metadata) => callBidi(client, twoRequests, { metadata }),
};

function tenant(name?: string): Metadata {
  const metadata = new Metadata();
  if (name !== undefined) metadata.set('x-tenant', name);
  metadata.set('x-user', 'ada');
  return metadata;
}

describe('the composed example through a proxy built with the handler', () => {
  let backends: Record<'a' | 'b' | 'c', EchoServerHandle>;
  let proxy: ComposedProxy;
  let client: EchoServiceClient;

  beforeEach(async () => {
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((name) => startEchoServer({ name })));
    backends = { a, b, c };
    proxy = await startComposedProxy({ a: a.address, b: b.address, c: c.address });
    client = createEchoClient(proxy.address);
  });

  afterEach(async () => {
    client.close();
    await proxy.close();
    for (const backend of Object.values(backends)) backend.forceClose();
  });

  it.each(Object.keys(callKinds))('routes %s calls by tenant, then by service', async (kind) => {
    const call = callKinds[kind];
    const blue = [];
    for (let index = 0; index < 4; index++) blue.push(await servedBy(call(client, tenant('blue'))));
    expect(blue).toEqual(['a', 'b', 'a', 'b']);
    expect(await servedBy(call(client, tenant('green')))).toBe('c');
    const rest = [];
    for (let index = 0; index < 3; index++) rest.push(await servedBy(call(client, tenant())));
    expect(rest).toEqual(['a', 'b', 'c']);
    expect(await servedBy(call(client, tenant('purple')))).toBe('a');
  });

  it('strips the routing key and forwards the rest', async () => {
    await servedBy(callKinds.unary(client, tenant('green')));
    const [seen] = backends.c.calls;
    expect(seen.metadata.get('x-tenant')).toEqual([]);
    expect(seen.metadata.get('x-user')).toEqual(['ada']);
  });

  it('sends the billing service to c', async () => {
    const before = await backends.c.callCounts();
    const billing = await callRawUnary(client, '/acme.billing.v1.Billing/Charge', Buffer.alloc(0));
    expect(billing.status).toMatchObject({
      code: status.UNIMPLEMENTED,
      details: 'The server does not implement the method /acme.billing.v1.Billing/Charge',
    });
    expect((await backends.c.callCounts()).started).toBe(before.started + 1);
  });

  it('follows health: blue leaves out a NOT_SERVING backend, then all down is UNAVAILABLE', async () => {
    const [a, b] = proxy.blue.backends;
    backends.b.setHealth('', 'NOT_SERVING');
    await untilStatus(proxy.blue, b, 'NOT_SERVING');
    const served = [];
    for (let index = 0; index < 3; index++)
      served.push(await servedBy(callKinds.unary(client, tenant('blue'))));
    expect(served).toEqual(['a', 'a', 'a']);

    backends.a.forceClose();
    await untilStatus(proxy.blue, a, 'UNREACHABLE');
    const outcome = await callKinds.bidi(client, tenant('blue'));
    expect(outcome.status.code).toBe(status.UNAVAILABLE);
    expect(outcome.status.details).toBe(
      'no backend available for /grpc_proxy.testing.v1.EchoService/Bidi in healthChecked(a, b) (a: UNREACHABLE, b: NOT_SERVING)',
    );
    expect(outcome.responses).toEqual([]);
  });
});
