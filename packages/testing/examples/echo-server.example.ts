import { status } from '@grpc/grpc-js';
import {
  HeadersMode,
  callEcho,
  createEchoClient,
  echoRequest,
  entriesFromPairs,
  openBidi,
  startEchoServer,
} from '@grpc-proxy/testing';
import type { EchoServerHandle, EchoServiceClient } from '@grpc-proxy/testing';

describe('echo servers in your own tests', () => {
  let backend: EchoServerHandle;
  let client: EchoServiceClient;

  beforeEach(async () => {
    backend = await startEchoServer({ name: 'backend-a' }); // 127.0.0.1, a free port
    client = createEchoClient(backend.address); // in your tests: your proxy's address
  });

  afterEach(async () => {
    client.close();
    await backend.close();
  });

  it('answers, and says which backend answered', async () => {
    const outcome = await callEcho(client, echoRequest({ payload: Buffer.from('hi') }));

    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses[0].payload.toString()).toBe('hi');
    expect(outcome.responses[0].serverName).toBe('backend-a');
  });

  it('fails on demand, here as a trailers-only response with a trailer', async () => {
    const outcome = await callEcho(
      client,
      echoRequest({
        statusCode: status.NOT_FOUND,
        statusMessage: 'no such user',
        responseTrailers: entriesFromPairs([['x-reason', 'deleted']]),
      }),
    );

    expect(outcome.events).toEqual(['status']); // no headers frame: trailers-only
    expect(outcome.status.code).toBe(status.NOT_FOUND);
    expect(outcome.status.metadata.get('x-reason')).toEqual(['deleted']);
  });

  it('sends headers first and waits for the client', async () => {
    const session = openBidi(client);
    session.call.write(
      echoRequest({
        headersMode: HeadersMode.HEADERS_MODE_IMMEDIATE_THEN_WAIT,
        responseHeaders: entriesFromPairs([['x-early', 'yes']]),
      }),
    );

    expect((await session.headers()).get('x-early')).toEqual(['yes']);
    session.call.end();
    expect((await session.outcome).responses).toHaveLength(1);
  });

  it('records what it saw, including a client cancelling', async () => {
    const call = client.echo(echoRequest({ delayMs: 60_000 }), () => undefined);
    await backend.waitForCall((seen) => seen.requests.length === 1); // no sleeps
    call.cancel();

    const record = await backend.waitForCancelled();
    expect(record.method).toBe('/grpc_proxy.testing.v1.EchoService/Echo');
    expect(record.responses).toHaveLength(0);
  });
});
