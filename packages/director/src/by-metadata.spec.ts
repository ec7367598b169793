import { Metadata, status } from '@grpc/grpc-js';
import type { ProxyCall, Route } from '@grpc-proxy/handler';
import { byMetadata, createBackend } from './index';
import { pickedName, proxyCall, statusError } from './test-support/calls';

const blue = createBackend('127.0.0.1:1', { name: 'blue' });
const green = createBackend('127.0.0.1:2', { name: 'green' });
const other = createBackend('127.0.0.1:3', { name: 'other' });
const method = '/acme.v1.Echo/Unary';

describe('byMetadata', () => {
  it('routes on the exact first value through a table', async () => {
    const director = byMetadata('x-tenant', { blue, green });
    expect(await pickedName(director(proxyCall(method, { 'x-tenant': 'blue' })))).toBe('blue');
    expect(await pickedName(director(proxyCall(method, { 'x-tenant': 'green' })))).toBe('green');
    const twoValues = proxyCall(method);
    twoValues.metadata.add('x-tenant', 'green');
    twoValues.metadata.add('x-tenant', 'blue');
    expect(await pickedName(director(twoValues))).toBe('green');
  });

  it('routes through a function of the value', async () => {
    const director = byMetadata('x-shard', (value) => (Number(value) % 2 === 0 ? blue : green));
    expect(await pickedName(director(proxyCall(method, { 'x-shard': '4' })))).toBe('blue');
    expect(await pickedName(director(proxyCall(method, { 'x-shard': '7' })))).toBe('green');
  });

  it('matches the key case-insensitively as gRPC does, values exactly', async () => {
    const director = byMetadata('X-Tenant', { blue });
    expect(await pickedName(director(proxyCall(method, { 'x-tenant': 'blue' })))).toBe('blue');
    expect(() => director(proxyCall(method, { 'x-tenant': 'Blue' }))).toThrow(
      statusError(status.UNIMPLEMENTED, 'no route for metadata key "x-tenant" value "Blue"'),
    );
  });

  it('strips the routing key by default and keeps the rest', () => {
    const call = proxyCall(method, { 'x-tenant': 'blue', 'x-user': 'ada' });
    byMetadata('x-tenant', { blue })(call);
    expect(call.metadata.getMap()).toEqual({ 'x-user': 'ada' });
  });

  it('keeps the routing key with strip: false', () => {
    const call = proxyCall(method, { 'x-tenant': 'blue' });
    byMetadata('x-tenant', { blue }, { strip: false })(call);
    expect(call.metadata.get('x-tenant')).toEqual(['blue']);
  });

  it('strips the key from metadata a nested director hands back', async () => {
    const nested = (call: ProxyCall): Route => ({ backend: blue, metadata: call.metadata.clone() });
    const metadata = new Metadata();
    metadata.add('x-tenant', 'blue');
    const echoing = (): Route => ({ backend: blue, metadata });
    expect(
      (
        await byMetadata('x-tenant', { blue: nested })(proxyCall(method, { 'x-tenant': 'blue' }))
      ).metadata?.getMap(),
    ).toEqual({});
    const route = await byMetadata('x-tenant', { blue: echoing })(
      proxyCall(method, { 'x-tenant': 'blue' }),
    );
    expect(route.metadata?.get('x-tenant')).toEqual([]);
  });

  it('sends a missing key or an unknown value to the fallback, stripped', async () => {
    const director = byMetadata('x-tenant', { blue }, { fallback: other });
    expect(await pickedName(director(proxyCall(method)))).toBe('other');
    const unknown = proxyCall(method, { 'x-tenant': 'purple' });
    expect(await pickedName(director(unknown))).toBe('other');
    expect(unknown.metadata.get('x-tenant')).toEqual([]);
  });

  it('rejects no match without fallback with UNIMPLEMENTED naming key and value', () => {
    const director = byMetadata('x-tenant', { blue });
    expect(() => director(proxyCall(method, { 'x-tenant': 'purple' }))).toThrow(
      statusError(status.UNIMPLEMENTED, 'no route for metadata key "x-tenant" value "purple"'),
    );
    expect(() => director(proxyCall(method))).toThrow(
      statusError(status.UNIMPLEMENTED, 'no route: metadata key "x-tenant" is missing'),
    );
    const fn = byMetadata('x-tenant', () => undefined);
    expect(() => fn(proxyCall(method, { 'x-tenant': 'blue' }))).toThrow(
      expect.objectContaining({ code: status.UNIMPLEMENTED }),
    );
  });

  it('never matches inherited object properties', () => {
    const director = byMetadata('x-tenant', { blue });
    for (const value of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      expect(() => director(proxyCall(method, { 'x-tenant': value }))).toThrow(
        statusError(status.UNIMPLEMENTED, `no route for metadata key "x-tenant" value "${value}"`),
      );
    }
  });

  it('refuses binary and invalid keys at creation', () => {
    expect(() => byMetadata('x-tenant-bin', { blue })).toThrow(TypeError);
    expect(() => byMetadata('x tenant', { blue })).toThrow(
      new TypeError(
        'byMetadata: "x tenant" is not a valid text metadata key (lowercase letters, digits, "_", "-", "."; no "-bin" suffix)',
      ),
    );
  });

  it('nests directors and waits for async ones', async () => {
    const slow = async (): Promise<Route> => ({ backend: green });
    const director = byMetadata('x-a', { one: byMetadata('x-b', { two: slow }) });
    const call = proxyCall(method, { 'x-a': 'one', 'x-b': 'two' });
    expect(await pickedName(director(call))).toBe('green');
    expect(call.metadata.getMap()).toEqual({});
  });

  it('rejects a route to a backend closed elsewhere with UNAVAILABLE', () => {
    const gone = createBackend('127.0.0.1:1', { name: 'gone' });
    gone.close();
    expect(() =>
      byMetadata('x-tenant', { gone })(proxyCall(method, { 'x-tenant': 'gone' })),
    ).toThrow(statusError(status.UNAVAILABLE, 'backend gone is closed'));
  });

  it('closes what it owns and then refuses calls', () => {
    const a = createBackend('127.0.0.1:1', { name: 'a' });
    const b = createBackend('127.0.0.1:2', { name: 'b' });
    const director = byMetadata('x-tenant', { a }, { fallback: b });
    expect(director.name).toBe('byMetadata(x-tenant)');
    director.close();
    director.close();
    expect([a.closed, b.closed]).toEqual([true, true]);
    expect(director.isAvailable()).toBe(false);
    expect(() => director(proxyCall(method, { 'x-tenant': 'a' }))).toThrow(
      statusError(status.UNAVAILABLE, 'byMetadata(x-tenant) is closed'),
    );
  });
});
