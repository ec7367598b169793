import { status } from '@grpc/grpc-js';
import type { EchoServerHandle } from '@grpc-proxy/testing';
import type { HealthCheckedSet } from './index';
import { healthChecked, roundRobin } from './index';
import { pickedName, proxyCall, statusError } from './test-support/calls';
import { startEchoBackends } from './test-support/echo-backends';

const method = '/acme.v1.Echo/Unary';

describe('healthChecked with passive health', () => {
  let servers: EchoServerHandle[] = [];
  let set: HealthCheckedSet | undefined;

  afterEach(() => {
    set?.close();
    for (const server of servers) server.forceClose();
    servers = [];
    set = undefined;
  });

  it('leaves out a SERVING member whose connection failed, says so, and takes it back once it connects', async () => {
    const started = await startEchoBackends(['a', 'b']);
    servers = started.servers;
    const [a, b] = started.backends;
    set = healthChecked([a, b]);
    await set.ready();
    const director = roundRobin(set);
    const names = async (count: number) => {
      const picked: string[] = [];
      for (let index = 0; index < count; index++)
        picked.push(await pickedName(director(proxyCall(method))));
      return picked;
    };

    a.reportConnection(new Error('connect ECONNREFUSED'));
    expect(set.statusOf(a)).toBe('SERVING');
    expect([set.isServing(a), set.isServing(b)]).toEqual([false, true]);
    expect(set.servingBackends()).toEqual([b]);
    expect(await names(3)).toEqual(['b', 'b', 'b']);

    b.reportConnection(new Error('connect ECONNREFUSED'));
    expect(set.isAvailable()).toBe(false);
    const expected = statusError(
      status.UNAVAILABLE,
      `no backend available for ${method} in healthChecked(a, b) (a: connect ECONNREFUSED, b: connect ECONNREFUSED)`,
    );
    expect(() => director(proxyCall(method))).toThrow(expected);
    expect(() => set?.route(proxyCall(method))).toThrow(expected);

    a.reportConnection(undefined);
    expect(set.servingBackends()).toEqual([a]);
    expect(await names(2)).toEqual(['a', 'a']);
  });
});
