import { Metadata, status } from '@grpc/grpc-js';
import { ProxyStatusError, type Backend, type ProxyCall, type Route } from '@grpc-proxy/handler';
import { createConfigDirector } from './config-director';
import { compileRoutes } from './routing';

function backend(name: string): Backend {
  return {
    name,
    client: () => {
      throw new Error('not used');
    },
  };
}

function call(method: string, entries: Record<string, string> = {}): ProxyCall {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.add(key, value);
  metadata.add('x-tenant-bin', Buffer.from('blue'));
  return {
    method,
    service: method.split('/')[1] ?? '',
    metadata,
    peer: 'ipv4:127.0.0.1:1',
    authority: 'proxy',
    deadline: Infinity,
    signal: new AbortController().signal,
    firstMessage: () => Promise.resolve(null),
  };
}

describe('createConfigDirector', () => {
  const blue = backend('blue/b:1');
  const main = backend('main/m:1');
  const groups = new Map([
    ['blue', () => ({ backend: blue })],
    ['main', () => ({ backend: main })],
  ]);

  it('routes through the table to the chosen group', async () => {
    const director = createConfigDirector(
      compileRoutes([{ metadata: { 'x-tenant': ['blue'] }, backend: 'blue' }], 'main'),
      groups,
    );
    expect((await director(call('/a.A/M', { 'x-tenant': 'blue' }))).backend).toBe(blue);
    expect((await director(call('/a.A/M', { 'x-tenant': 'red' }))).backend).toBe(main);
    expect((await director(call('/a.A/M'))).backend).toBe(main);
  });

  it('rejects a call no route matches with UNIMPLEMENTED naming the method', () => {
    const director = createConfigDirector(
      compileRoutes([{ service: 'a.A', backend: 'blue' }]),
      groups,
    );
    expect(() => director(call('/b.B/M'))).toThrow(
      expect.objectContaining({
        code: status.UNIMPLEMENTED,
        details: 'grpc-proxy: no route for /b.B/M',
      }),
    );
  });

  it('names the proxy in the rejections of the groups, sync or async, keeping code and trailers', async () => {
    const trailers = new Metadata();
    trailers.set('x-why', 'drained');
    const failing = new Map([
      [
        'sync',
        () => {
          throw new ProxyStatusError(status.UNAVAILABLE, 'no backend available', trailers);
        },
      ],
      ['async', () => Promise.reject(new ProxyStatusError(status.RESOURCE_EXHAUSTED, 'busy'))],
      [
        'named',
        () => {
          throw new ProxyStatusError(status.UNAVAILABLE, 'grpc-proxy: already named');
        },
      ],
    ]);
    const director = (name: string) => createConfigDirector(compileRoutes([], name), failing);
    expect(() => director('sync')(call('/a.A/M'))).toThrow(
      expect.objectContaining({
        code: status.UNAVAILABLE,
        details: 'grpc-proxy: no backend available',
        metadata: trailers,
      }),
    );
    await expect(director('async')(call('/a.A/M'))).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      details: 'grpc-proxy: busy',
    });
    expect(() => director('named')(call('/a.A/M'))).toThrow('grpc-proxy: already named');
  });

  it('names the proxy in the rejection of a custom thenable, not only of a Promise', async () => {
    const thenable: PromiseLike<Route> = {
      then: (_onFulfilled, onRejected) =>
        Promise.resolve(
          onRejected?.(new ProxyStatusError(status.UNAVAILABLE, 'no backend available')),
        ) as never,
    };
    const director = createConfigDirector(
      compileRoutes([], 'custom'),
      new Map([['custom', () => thenable]]),
    );
    await expect(Promise.resolve(director(call('/a.A/M')))).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: 'grpc-proxy: no backend available',
    });
  });
});
