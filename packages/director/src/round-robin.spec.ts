import { status } from '@grpc/grpc-js';
import type { Backend, ProxyCall, Route } from '@grpc-proxy/handler';
import { ProxyStatusError } from '@grpc-proxy/handler';
import type { BackendSet } from './index';
import { createBackend, roundRobin } from './index';
import { pickedName, proxyCall, statusError } from './test-support/calls';

const named = (name: string) => createBackend(`127.0.0.1:${name.length}`, { name });
const call = () => proxyCall('/acme.v1.Echo/Unary');

async function rotation(director: (call: ProxyCall) => Route | Promise<Route>, count: number) {
  const names: string[] = [];
  for (let index = 0; index < count; index++) names.push(await pickedName(director(call())));
  return names;
}

/** A set whose members' health the test sets by hand. */
function manualSet(backends: Backend[]): BackendSet & { serving: Set<Backend> } {
  const serving = new Set(backends);
  return {
    name: 'manual',
    backends,
    serving,
    isServing: (backend) => serving.has(backend),
    isAvailable: () => serving.size > 0,
    route: (proxied) => {
      const first = backends.find((backend) => serving.has(backend));
      if (!first)
        throw new ProxyStatusError(status.UNAVAILABLE, `manual: none for ${proxied.method}`);
      return { backend: first };
    },
    close: () => undefined,
  };
}

describe('roundRobin', () => {
  it('rotates strictly over backends', async () => {
    const director = roundRobin([named('a'), named('b'), named('c')]);
    expect(await rotation(director, 7)).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a']);
    expect(director.name).toBe('roundRobin(a, b, c)');
  });

  it('rotates over the serving members of a set and skips the others', async () => {
    const [a, b, c] = [named('a'), named('b'), named('c')];
    const set = manualSet([a, b, c]);
    const director = roundRobin(set);
    expect(await rotation(director, 2)).toEqual(['a', 'b']);
    set.serving.delete(c);
    expect(await rotation(director, 3)).toEqual(['a', 'b', 'a']);
    set.serving.add(c);
    expect(await rotation(director, 3)).toEqual(['b', 'c', 'a']);
    set.serving.clear();
    expect(director.isAvailable()).toBe(false);
    expect(() => director(call())).toThrow(
      statusError(status.UNAVAILABLE, 'manual: none for /acme.v1.Echo/Unary'),
    );
  });

  it('skips nested directors and sets that are unavailable', async () => {
    const left = manualSet([named('l1'), named('l2')]);
    const right = manualSet([named('r1')]);
    const director = roundRobin([roundRobin(left), right, named('plain')]);
    expect(await rotation(director, 6)).toEqual(['l1', 'r1', 'plain', 'l2', 'r1', 'plain']);
    left.serving.clear();
    expect(await rotation(director, 3)).toEqual(['r1', 'plain', 'r1']);
    right.serving.clear();
    expect(await rotation(director, 2)).toEqual(['plain', 'plain']);
  });

  it('rejects at once with UNAVAILABLE naming the method and targets when nothing is available', () => {
    const set = manualSet([named('a')]);
    set.serving.clear();
    const director = roundRobin([set, roundRobin(manualSet([]))]);
    expect(() => director(call())).toThrow(
      statusError(
        status.UNAVAILABLE,
        'no backend available for /acme.v1.Echo/Unary in roundRobin(manual, roundRobin(manual)) (manual: no serving member, roundRobin(manual): nothing available)',
      ),
    );
  });

  it('accepts plain StreamDirector functions, sync or async', async () => {
    const x = named('x');
    const director = roundRobin([async () => ({ backend: x }), () => ({ backend: named('y') })]);
    expect(await rotation(director, 3)).toEqual(['x', 'y', 'x']);
  });

  it('skips a closed backend, and a director routing to one rejects with UNAVAILABLE', async () => {
    const [a, b] = [named('a'), named('b')];
    const director = roundRobin([a, b]);
    b.close();
    expect(await rotation(director, 2)).toEqual(['a', 'a']);
    a.close();
    expect(() => director(call())).toThrow(
      statusError(
        status.UNAVAILABLE,
        'no backend available for /acme.v1.Echo/Unary in roundRobin(a, b) (a: closed, b: closed)',
      ),
    );
  });

  it('refuses an empty list', () => {
    expect(() => roundRobin([])).toThrow(
      new TypeError('roundRobin: needs a non-empty list of targets or a backend set'),
    );
  });

  it('closes its targets', () => {
    const [a, b] = [named('a'), named('b')];
    const director = roundRobin([a, roundRobin([b])]);
    director.close();
    expect([a.closed, b.closed]).toEqual([true, true]);
  });
});
