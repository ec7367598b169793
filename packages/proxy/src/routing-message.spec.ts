import { status } from '@grpc/grpc-js';
import { ProxyStatusError, type Backend, type ProxyCall } from '@grpc-proxy/handler';
import { EchoRequest } from '@grpc-proxy/testing';
import { createConfigDirector } from './config-director';
import type { ResolvedRoute } from './config/types';
import { compileMirrors, compileRoutes, type RoutableCall } from './routing';
import { fakeCall } from './test-support/proxy-call';

const encode = (request: Parameters<typeof EchoRequest.fromPartial>[0]): Buffer =>
  Buffer.from(EchoRequest.encode(EchoRequest.fromPartial(request)).finish());

/** A call whose first message is `first` (a rejection when an Error), counting the asks. */
function routable(method: string, first: Buffer | null | Error, tenant?: string) {
  const asked = { count: 0 };
  const call: RoutableCall = {
    method,
    metadataValues: (key) => (key === 'x-tenant' && tenant !== undefined ? [tenant] : []),
    firstMessage: () => {
      asked.count++;
      return first instanceof Error ? Promise.reject(first) : Promise.resolve(first);
    },
  };
  return { call, asked };
}

const ROUTES: ResolvedRoute[] = [
  { service: 'acme.Echo', message: { '1': ['tenant-a', 'tenant-b'], '2': ['3'] }, backend: 'a3' },
  { service: 'acme.Echo', message: { '9.2': ['eu'] }, backend: 'eu' },
  { service: 'acme.Echo', metadata: { 'x-tenant': ['blue'] }, backend: 'blue' },
  { service: 'acme.Other', backend: 'other' },
];

describe('compileRoutes with message conditions', () => {
  const table = compileRoutes(ROUTES, 'main');

  it('answers synchronously, never asking for the message, when no message rule is reached', () => {
    const other = routable('/acme.Other/M', encode({ payload: Buffer.from('tenant-a') }));
    expect(table(other.call)).toBe('other');
    const unmatched = routable('/acme.None/M', null);
    expect(table(unmatched.call)).toBe('main');
    expect(compileRoutes([{ service: 'acme.Echo', backend: 'x' }])(unmatched.call)).toBeUndefined();
    expect(other.asked.count + unmatched.asked.count).toBe(0);
  });

  it('routes on fields of the first message, asking for it once, every field needed', async () => {
    const both = routable(
      '/acme.Echo/M',
      encode({ payload: Buffer.from('tenant-b'), responseCount: 3 }),
    );
    const answer = table(both.call);
    expect(answer).toBeInstanceOf(Promise);
    await expect(answer).resolves.toBe('a3');
    expect(both.asked.count).toBe(1);
    const nested = routable(
      '/acme.Echo/M',
      encode({ payload: Buffer.from('tenant-a'), responseHeaders: [{ key: 'r', value: 'eu' }] }),
    );
    await expect(table(nested.call)).resolves.toBe('eu');
    expect(nested.asked.count).toBe(1);
    const blue = routable('/acme.Echo/M', encode({ responseCount: 3 }), 'blue');
    await expect(table(blue.call)).resolves.toBe('blue');
    const none = routable('/acme.Echo/M', Buffer.from([0xff, 0xff]));
    await expect(table(none.call)).resolves.toBe('main');
    expect(blue.asked.count + none.asked.count).toBe(2);
  });

  it('fails a message condition on a call that half-closed without a message', async () => {
    await expect(table(routable('/acme.Echo/M', null, 'blue').call)).resolves.toBe('blue');
    await expect(table(routable('/acme.Echo/M', null).call)).resolves.toBe('main');
    const { firstMessage: _, ...noPeek } = routable('/acme.Echo/M', null).call;
    await expect(table(noPeek)).resolves.toBe('main');
  });

  it("rejects with the call's status when the call ended before its first message", async () => {
    const ended = new ProxyStatusError(status.DEADLINE_EXCEEDED, 'deadline exceeded');
    await expect(table(routable('/acme.Echo/M', ended).call)).rejects.toBe(ended);
  });

  it('picks mirrors by the same rules', async () => {
    const mirrors = compileMirrors(
      ROUTES.map((route, index) => ({
        ...route,
        mirror: [{ backend: `m${index}`, percent: 100 }],
      })),
      [{ backend: 'top', percent: 50 }],
    );
    const other = routable('/acme.Other/M', null);
    expect(mirrors?.(other.call)).toEqual([{ backend: 'm3', percent: 100 }]);
    expect(other.asked.count).toBe(0);
    const eu = routable('/acme.Echo/M', encode({ responseHeaders: [{ key: 'r', value: 'eu' }] }));
    await expect(mirrors?.(eu.call)).resolves.toEqual([{ backend: 'm1', percent: 100 }]);
    await expect(mirrors?.(routable('/acme.Echo/M', null).call)).resolves.toEqual([
      { backend: 'top', percent: 50 },
    ]);
  });
});

describe('createConfigDirector with message conditions', () => {
  const backends = new Map(['a3', 'eu', 'main'].map((name) => [name, { name } as Backend]));
  const groups = new Map([...backends].map(([name, backend]) => [name, () => ({ backend })]));
  const director = createConfigDirector(compileRoutes(ROUTES, 'main'), groups);

  const proxyCall = (method: string, first: Promise<Buffer | null>): ProxyCall => ({
    ...fakeCall(method),
    firstMessage: () => first,
  });

  it("routes on the call's first message, and lets its rejection through unchanged", async () => {
    const first = encode({ payload: Buffer.from('tenant-a'), responseCount: 3 });
    const route = await director(proxyCall('/acme.Echo/M', Promise.resolve(first)));
    expect(route.backend).toBe(backends.get('a3'));
    const ended = new ProxyStatusError(status.CANCELLED, 'client cancelled');
    await expect(director(proxyCall('/acme.Echo/M', Promise.reject(ended)))).rejects.toBe(ended);
  });
});
