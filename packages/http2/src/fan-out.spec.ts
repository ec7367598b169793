/**
 * Fan-out (`Route.backend` a `FanOutBackend`) on the http2 engine: server-streaming and bidi
 * calls get every backend's messages, unary calls their merge (concatenation or a user merge);
 * every client message reaches every backend; the observer hears each backend's outcome; peek
 * and mirror work on a fan-out route; an invalid fan-out is an invalid route.
 */
import { Metadata, status } from '@grpc/grpc-js';
import {
  ECHO_SERVICE_NAME,
  EchoRequest,
  EchoResponse,
  callBidi,
  callClientStream,
  callEcho,
  callServerStream,
  echoRequest,
  startEchoServer,
} from '@grpc-proxy/testing';
import { useFanOutBench } from './test-support/fan-out-bench';

const method = (name: string): string => `/${ECHO_SERVICE_NAME}/${name}`;
const names = (responses: readonly EchoResponse[]): string[] =>
  responses.map((r) => r.serverName).sort();
const ok = (backend: string, messages: number) => ({
  backend,
  code: status.OK,
  details: 'OK',
  proxyError: false,
  messages,
});

describe('fan-out', () => {
  const t = useFanOutBench();

  it('server streaming: the client gets every message of the 3 backends', async () => {
    await t.start();
    const request = echoRequest({ payload: Buffer.from('x'), responseCount: 4 });
    const outcome = await callServerStream(t.echo, request);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(12);
    expect(names(outcome.responses)).toEqual([
      ...['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b', 'c', 'c', 'c', 'c'],
    ]);
    // Each backend's own messages keep their order.
    for (const server of ['a', 'b', 'c']) {
      const indexes = outcome.responses.filter((r) => r.serverName === server).map((r) => r.index);
      expect(indexes).toEqual([0, 1, 2, 3]);
    }
    const [report] = await t.proxy.callEnds(1);
    expect(report).toMatchObject({
      backend: 'fan',
      code: status.OK,
      messagesFromClient: 1,
      messagesToClient: 12,
      retries: 0,
    });
    expect(report.fanOut).toEqual([ok('a', 4), ok('b', 4), ok('c', 4)]);
  });

  it('bidi: every client message reaches every backend, every answer reaches the client', async () => {
    await t.start();
    const payloads = ['one', 'two', 'three', 'four'];
    const requests = payloads.map((p) => echoRequest({ payload: Buffer.from(p) }));
    const outcome = await callBidi(t.echo, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(12);
    for (const server of [t.a, t.b, t.c]) {
      const call = await server.waitForCall((c) => c.method === method('Bidi') && c.ended);
      expect(call.requests.map((r) => r.payload.toString())).toEqual(payloads);
      expect(call.halfClosed).toBe(true);
      const got = outcome.responses.filter((r) => r.serverName === server.name);
      expect(got.map((r) => r.payload.toString())).toEqual(payloads);
    }
    const [report] = await t.proxy.callEnds(1);
    expect(report).toMatchObject({ messagesFromClient: 4, messagesToClient: 12 });
    expect(report.fanOut).toEqual([ok('a', 4), ok('b', 4), ok('c', 4)]);
  });

  it('unary merge: the responses concatenated in backend order (repeated fields append)', async () => {
    t.rules = { responses: 'merge' };
    await t.start();
    const metadata = new Metadata();
    metadata.set('tenant', 't1');
    const request = echoRequest({ payload: Buffer.from('p'), echoMetadata: true });
    const outcome = await callEcho(t.echo, request, { metadata });
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(1);
    const [merged] = outcome.responses;
    // Scalars: the last backend's; repeated: every backend's entries, in backend order.
    expect(merged.serverName).toBe('c');
    const tenants = merged.requestMetadata.filter((e) => e.key === 'tenant');
    expect(tenants.map((e) => e.value)).toEqual(['t1', 't1', 't1']);
    const [report] = await t.proxy.callEnds(1);
    expect(report).toMatchObject({ code: status.OK, messagesFromClient: 1, messagesToClient: 1 });
    expect(report.fanOut).toEqual([ok('a', 1), ok('b', 1), ok('c', 1)]);
  });

  it('client streaming merge with a user merge over the raw responses', async () => {
    const merge = jest.fn((parts: readonly Buffer[]) => {
      const servers = parts.map((part) => EchoResponse.decode(part).serverName);
      return Buffer.from(
        EchoResponse.encode({
          ...EchoResponse.fromPartial({}),
          serverName: servers.join('+'),
        }).finish(),
      );
    });
    t.rules = { responses: 'merge', merge };
    await t.start();
    const requests = ['x', 'y'].map((p) => echoRequest({ payload: Buffer.from(p) }));
    const outcome = await callClientStream(t.echo, requests);
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((r) => r.serverName)).toEqual(['a+b+c']);
    expect(merge).toHaveBeenCalledTimes(1);
    for (const server of [t.a, t.b, t.c]) {
      const call = await server.waitForCall((c) => c.method === method('ClientStream') && c.ended);
      expect(call.requests.map((r) => r.payload.toString())).toEqual(['x', 'y']);
    }
  });

  it('merges the OK trailers of every backend, in backend order', async () => {
    await t.start();
    const request = echoRequest({
      responseCount: 1,
      responseTrailers: [{ key: 'x-shard', value: 'v', binaryValue: Buffer.alloc(0) }],
    });
    const outcome = await callServerStream(t.echo, request);
    expect(outcome.status.code).toBe(status.OK);
    // Three header fields of one key, which Node joins for grpc-js as it would a backend's own.
    expect(outcome.status.metadata.get('x-shard')).toEqual(['v, v, v']);
  });

  it('an invalid fan-out is an invalid route: INTERNAL, no backend called', async () => {
    t.members = [];
    await t.start();
    const outcome = await callEcho(t.echo, echoRequest());
    expect(outcome.status.code).toBe(status.INTERNAL);
    expect(outcome.status.details).toBe(
      'grpc-proxy: director returned an invalid route: fan-out fan needs at least one backend',
    );
    const [report] = await t.proxy.callEnds(1);
    expect(report).toMatchObject({ backend: 'fan', code: status.INTERNAL, proxyError: true });
    expect(report.fanOut).toBeUndefined();
    expect([t.a.calls, t.b.calls, t.c.calls]).toEqual([[], [], []]);
  });

  it('a member without a target is an invalid route too', async () => {
    t.members = [t.members[0], {} as never];
    await t.start();
    const outcome = await callEcho(t.echo, echoRequest());
    expect(outcome.status.code).toBe(status.INTERNAL);
    expect(outcome.status.details).toMatch(
      /^grpc-proxy: director returned an invalid route: route\.backend has no target/,
    );
    expect(t.a.calls).toEqual([]);
  });

  it('peek: the first message a director read goes to every backend, first', async () => {
    let peeked = '';
    await t.start({}, (route) => async (call) => {
      const first = await call.firstMessage();
      peeked = first === null ? 'null' : EchoRequest.decode(first).payload.toString();
      return route;
    });
    const payloads = ['one', 'two', 'three'];
    const outcome = await callBidi(
      t.echo,
      payloads.map((p) => echoRequest({ payload: Buffer.from(p) })),
    );
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(9);
    expect(peeked).toBe('one');
    for (const server of [t.a, t.b, t.c]) {
      const call = await server.waitForCall((c) => c.method === method('Bidi') && c.ended);
      expect(call.requests.map((r) => r.payload.toString())).toEqual(payloads);
    }
  });

  it('mirror: a fan-out call is copied once to each mirror', async () => {
    const mirror = await startEchoServer({ name: 'm' });
    t.closers.push(() => mirror.forceClose());
    t.mirror = { backend: { name: 'm', target: mirror.address } };
    await t.start();
    const payloads = ['one', 'two'];
    const outcome = await callBidi(
      t.echo,
      payloads.map((p) => echoRequest({ payload: Buffer.from(p) })),
    );
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses).toHaveLength(6);
    expect(await t.proxy.mirrorEnds(1)).toEqual([
      {
        method: method('Bidi'),
        backend: 'm',
        outcome: 'completed',
        code: status.OK,
        details: 'OK',
      },
    ]);
    const copy = await mirror.waitForCall((c) => c.ended);
    expect(copy.requests.map((r) => r.payload.toString())).toEqual(payloads);
    expect(copy.metadata.get('x-grpc-proxy-mirror')).toEqual(['1']);
    expect(mirror.calls).toHaveLength(1);
    expect(t.proxy.mirrors).toHaveLength(1);
  });
});
