import { status, type StatusObject } from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import type { Backend, MirrorRoute, ProxyCall, Route } from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import { createBackend, roundRobin, withMirror } from './index';
import { mirroredBilling } from '../examples/mirror';
import { proxyCall, statusError } from './test-support/calls';

const call = proxyCall('/acme.v1.Echo/Get');
const primary = { name: 'primary', target: '127.0.0.1:1' } as Backend;
const shadow = { name: 'shadow', target: '127.0.0.1:2' } as Backend;
const canary = { name: 'canary', target: '127.0.0.1:3' } as Backend;
const ok: StatusObject = { code: status.OK, details: '', metadata: new Metadata() };

describe('withMirror', () => {
  it('adds the mirrors to a route without changing its backend, metadata or options', async () => {
    const metadata = new Metadata();
    const shared: Route = { backend: primary, metadata, callOptions: { host: 'h' } };
    const director = withMirror(() => shared, [{ backend: shadow, percent: 25 }]);
    const route = await director(call);
    expect(route).toEqual({
      backend: primary,
      metadata,
      callOptions: { host: 'h' },
      mirror: [{ backend: shadow, percent: 25 }],
    });
    expect(route).not.toBe(shared);
    expect(shared).toEqual({ backend: primary, metadata, callOptions: { host: 'h' } });
  });

  it('takes one mirror, and appends to the mirrors a route already has (one or a list)', async () => {
    const one = withMirror(() => ({ backend: primary, mirror: { backend: canary } }), {
      backend: shadow,
    });
    expect((await one(call)).mirror).toEqual([{ backend: canary }, { backend: shadow }]);
    const list = withMirror(
      () => ({ backend: primary, mirror: [{ backend: canary }] }),
      [{ backend: shadow }],
    );
    expect((await list(call)).mirror).toEqual([{ backend: canary }, { backend: shadow }]);
  });

  it('nests: the outer mirrors come after the inner ones', async () => {
    const inner = withMirror(() => ({ backend: primary }), { backend: canary, percent: 5 });
    const outer = withMirror(inner, { backend: shadow });
    expect((await outer(call)).mirror).toEqual([
      { backend: canary, percent: 5 },
      { backend: shadow },
    ]);
  });

  it('keeps release working, once, with the original route as this (also from a class)', async () => {
    const released: Array<[unknown, StatusObject]> = [];
    class CountedRoute implements Route {
      readonly backend = primary;
      release(end: StatusObject): void {
        released.push([this, end]);
      }
    }
    const original = new CountedRoute();
    const route = await withMirror(() => original, { backend: shadow })(call);
    expect(Object.keys(route).sort()).toEqual(['backend', 'mirror', 'release']);
    route.release?.(ok);
    expect(released).toEqual([[original, ok]]);
  });

  it('adds the mirrors to a route given by a promise', async () => {
    const director = withMirror(async () => ({ backend: primary }), { backend: shadow });
    const route = director(call);
    expect(route).toBeInstanceOf(Promise);
    expect(await route).toEqual({ backend: primary, mirror: [{ backend: shadow }] });
  });

  it('passes the director rejections through unchanged, thrown or rejected', async () => {
    const refusal = new ProxyStatusError(status.UNAVAILABLE, 'no backend');
    const throwing = withMirror(
      () => {
        throw refusal;
      },
      { backend: shadow },
    );
    expect(() => throwing(call)).toThrow(refusal);
    const rejecting = withMirror(() => Promise.reject(refusal), { backend: shadow });
    await expect(rejecting(call)).rejects.toEqual(statusError(status.UNAVAILABLE, 'no backend'));
  });

  it('leaves routes unchanged (the same object) for an empty list', () => {
    const shared: Route = { backend: primary };
    expect(withMirror(() => shared, [])(call)).toBe(shared);
  });

  it('refuses a mirror without a backend or with a percent outside 0 to 100, at creation', () => {
    const director = (): Route => ({ backend: primary });
    expect(() => withMirror(director, { percent: 5 } as unknown as MirrorRoute)).toThrow(
      new TypeError('withMirror: mirror 0 needs a backend'),
    );
    expect(() =>
      withMirror(director, [{ backend: shadow }, { backend: shadow, percent: 101 }]),
    ).toThrow(
      new TypeError('withMirror: mirror 1 percent must be a number from 0 to 100, got 101'),
    );
    expect(() => withMirror(director, { backend: shadow, percent: Number.NaN })).toThrow(
      new TypeError('withMirror: mirror 0 percent must be a number from 0 to 100, got NaN'),
    );
  });

  it('keeps a composed director name, availability and close, and does not close the mirrors', async () => {
    const a = createBackend('127.0.0.1:1', { name: 'a' });
    const mirror = createBackend('127.0.0.1:2', { name: 'mirror' });
    const rotation = roundRobin([a]);
    const director = withMirror(rotation, { backend: mirror }) as ReturnType<typeof roundRobin>;
    expect(director.name).toBe('withMirror(roundRobin(a))');
    expect(director.isAvailable()).toBe(true);
    expect(((await director(call)) as Route).backend).toBe(a);
    director.close();
    expect(a.closed).toBe(true);
    expect(director.isAvailable()).toBe(false);
    expect(mirror.closed).toBe(false);
    mirror.close();
  });

  it('gives a plain function director no name, availability or close of its own', () => {
    const director = withMirror((_call: ProxyCall) => ({ backend: primary }), { backend: shadow });
    expect('isAvailable' in director).toBe(false);
    expect('close' in director).toBe(false);
  });

  it('runs the README example: billing calls routed to billing, mirrored to billing-next at 10 %', async () => {
    const { director, close } = mirroredBilling({
      billing: '127.0.0.1:1',
      billingNext: '127.0.0.1:2',
    });
    const route = await director(proxyCall('/acme.billing.v1.Billing/Refund'));
    expect((route.backend as Backend).name).toBe('billing');
    const mirrors = route.mirror as readonly MirrorRoute[];
    expect(mirrors.map(({ backend, percent }) => [(backend as Backend).name, percent])).toEqual([
      ['billing-next', 10],
    ]);
    expect(() => director(proxyCall('/acme.users.v1.Users/Get'))).toThrow(
      statusError(status.UNIMPLEMENTED, 'no route for method /acme.users.v1.Users/Get'),
    );
    close();
    expect((mirrors[0].backend as Backend).closed).toBe(true);
  });
});
