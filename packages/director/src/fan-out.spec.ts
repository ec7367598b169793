import { Metadata, status } from '@grpc/grpc-js';
import type { Backend, FanOutBackend, FanOutMember } from '@grpc-proxy/handler';
import { callServerStream, echoRequest } from '@grpc-proxy/testing';
import type { EchoServerHandle } from '@grpc-proxy/testing';
import type { OwnedBackend } from './index';
import { byService, fanOut, fanOutBackend, roundRobin } from './index';
import { proxyCall, statusError } from './test-support/calls';
import { startEchoBackends } from './test-support/echo-backends';
import { startDirectedProxy, type DirectedProxy } from './test-support/proxy';

const call = proxyCall('/acme.v1.Search/Find');

/** A named backend that counts its close() calls. */
function backend(name: string): Backend & { closes: number } {
  const made = { name, target: `${name}:1`, closes: 0, client: () => ({}) as never, close() {} };
  made.close = () => {
    made.closes++;
  };
  return made;
}

describe('fanOut', () => {
  it('routes every call to a FanOutBackend of all the backends, named after them', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map(backend);
    const director = fanOut([a, b, c], { responses: 'stream' });
    expect(director.name).toBe('fan-out(a,b,c)');
    const route = await director(call);
    expect(route).toEqual({
      backend: { name: 'fan-out(a,b,c)', fanOut: { backends: [a, b, c], responses: 'stream' } },
    });
    // One backend object for every call: engines and observers see the same name each time.
    expect((await director(call)).backend).toBe(route.backend);
  });

  it('passes onError, merge and name through', async () => {
    const merge = (parts: readonly Buffer[]) => Buffer.concat(parts);
    const onError = () => null;
    const director = fanOut([backend('a')], { responses: 'merge', onError, merge, name: 'all' });
    expect(director.name).toBe('all');
    const { backend: made } = await director(call);
    expect(made).toMatchObject({ name: 'all', fanOut: { responses: 'merge', onError, merge } });
  });

  it('names addresses by their target and clients by their channel target', async () => {
    const address = { target: '127.0.0.1:5' };
    const channelOwner = { getChannel: () => ({ getTarget: () => 'dns:x:1' }) } as FanOutMember;
    expect(fanOut([address, channelOwner], { responses: 'stream', onError: 'skip' }).name).toBe(
      'fan-out(127.0.0.1:5,dns:x:1)',
    );
  });

  it('asks a picker once per call and names the route after what it picked', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map(backend);
    const picker = jest.fn((picked: typeof call) =>
      picked.method.endsWith('Find') ? [a, c] : [b],
    );
    const director = fanOut(picker, { responses: 'merge' });
    expect(director.name).toBe('fan-out(mockConstructor)');
    expect(await director(call)).toEqual({
      backend: { name: 'fan-out(a,c)', fanOut: { backends: [a, c], responses: 'merge' } },
    });
    const other = await director(proxyCall('/acme.v1.Search/Count'));
    expect((other.backend as FanOutBackend).fanOut.backends).toEqual([b]);
    expect(picker).toHaveBeenCalledTimes(2);
  });

  it('awaits an async picker, and ends an empty pick UNAVAILABLE', async () => {
    const a = backend('a');
    const async = fanOut(async () => [a], { responses: 'stream', name: 'some' });
    expect(async.name).toBe('some');
    expect(await async(call)).toEqual({
      backend: { name: 'some', fanOut: { backends: [a], responses: 'stream' } },
    });
    const empty = fanOut(() => [], { responses: 'stream' });
    expect(() => empty(call)).toThrow(
      statusError(status.UNAVAILABLE, 'no backend to fan /acme.v1.Search/Find out to'),
    );
    const notAList = fanOut(() => 'a' as unknown as FanOutMember[], { responses: 'stream' });
    expect(() => notAList(call)).toThrow(
      new TypeError('fanOut: the picker returned a, not a list of backends'),
    );
  });

  it('rejects invalid lists and options at creation, saying what is wrong', () => {
    const a = backend('a');
    const make = (backends: unknown, options: unknown) => () =>
      fanOut(backends as FanOutMember[], options as never);
    expect(make([], { responses: 'stream' })).toThrow(
      new TypeError('fanOut: needs a non-empty list of backends, got '),
    );
    expect(make([a, null], { responses: 'stream' })).toThrow(
      new TypeError('fanOut: backend 1 is null, not a backend'),
    );
    const nested = fanOutBackend([a], { responses: 'stream', name: 'inner' });
    expect(make([nested], { responses: 'stream', name: 'outer' })).toThrow(
      new TypeError('fan-out outer: backend 0 is a fan-out; fan-outs do not nest'),
    );
    expect(make([a], undefined)).toThrow(
      new TypeError('fanOut: options must be an object with responses, got undefined'),
    );
    expect(make([a], { responses: 'unary' })).toThrow(
      new TypeError("fanOut: responses must be 'stream' or 'merge', got unary"),
    );
    expect(make([a], { responses: 'stream', onError: 'retry' })).toThrow(
      new TypeError("fanOut: onError must be 'first-error', 'skip' or a function, got retry"),
    );
    expect(make([a], { responses: 'merge', merge: 'concat' })).toThrow(
      new TypeError('fanOut: merge must be a function'),
    );
    expect(make([a], { responses: 'merge', name: '' })).toThrow(
      new TypeError('fanOut: name must be a non-empty string, got '),
    );
    expect(make(() => [a], { responses: 'merge', name: 7 })).toThrow(
      new TypeError('fanOut: name must be a non-empty string, got 7'),
    );
  });

  it('owns a list: close() closes each backend once, then calls are UNAVAILABLE', () => {
    const [a, b] = ['a', 'b'].map(backend);
    const director = fanOut([a, b, a], { responses: 'stream' });
    director.close();
    director.close();
    expect([a.closes, b.closes]).toEqual([1, 1]);
    expect(() => director(call)).toThrow(
      statusError(status.UNAVAILABLE, 'fan-out(a,b,a) is closed'),
    );
    expect(director.isAvailable()).toBe(false);
  });

  it('owns nothing picked per call', () => {
    const a = backend('a');
    fanOut(() => [a], { responses: 'stream' }).close();
    expect(a.closes).toBe(0);
  });
});

describe('fanOutBackend', () => {
  it('is a route target of the other helpers, which close it with its backends', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map(backend);
    const all = fanOutBackend([a, b], { responses: 'merge' });
    const director = byService({ 'acme.v1.Search/Find': all, '*': roundRobin([c]) });
    expect(await director(call)).toEqual({
      backend: { name: 'fan-out(a,b)', fanOut: { backends: [a, b], responses: 'merge' } },
    });
    expect(Object.keys(all)).toEqual(['name', 'fanOut']); // close() stays out of the route's data
    director.close();
    expect([a.closes, b.closes, c.closes]).toEqual([1, 1, 1]);
  });
});

describe('fanOut through the grpc-js engine', () => {
  let servers: EchoServerHandle[];
  let backends: OwnedBackend[];
  let proxy: DirectedProxy;

  beforeEach(async () => {
    ({ servers, backends } = await startEchoBackends(['a', 'b', 'c']));
    // The client names the backends of its call in x-shards, e.g. "a,c".
    const director = fanOut(
      (picked) => {
        const wanted = String(picked.metadata.get('x-shards')[0] ?? '').split(',');
        return backends.filter((backend) => wanted.includes(backend.name));
      },
      { responses: 'stream' },
    );
    proxy = await startDirectedProxy(director);
  });

  afterEach(async () => {
    await proxy.close();
    backends.forEach((backend) => backend.close());
    servers.forEach((server) => server.forceClose());
  });

  it.each([
    ['a,c', ['a', 'a', 'c', 'c']],
    ['b', ['b', 'b']],
  ])('sends a call to the backends the picker chose for it (%s)', async (shards, names) => {
    const metadata = new Metadata();
    metadata.set('x-shards', shards);
    const outcome = await callServerStream(proxy.client, echoRequest({ responseCount: 2 }), {
      metadata,
    });
    expect(outcome.status.code).toBe(status.OK);
    expect(outcome.responses.map((response) => response.serverName).sort()).toEqual(names);
  });

  it('ends a call for which the picker chose nothing UNAVAILABLE', async () => {
    const outcome = await callServerStream(proxy.client, echoRequest({ responseCount: 2 }));
    expect(outcome.status).toMatchObject({
      code: status.UNAVAILABLE,
      details: 'no backend to fan /grpc_proxy.testing.v1.EchoService/ServerStream out to',
    });
    expect(servers.map((server) => server.calls.length)).toEqual([0, 0, 0]);
  });
});
