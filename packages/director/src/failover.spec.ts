import { status } from '@grpc/grpc-js';
import { callEcho, echoRequest } from '@grpc-proxy/testing';
import type { EchoServerHandle } from '@grpc-proxy/testing';
import type { BackendSet, ComposedDirector, HealthCheckedSet, OwnedBackend } from './index';
import { createBackend, failover, healthChecked } from './index';
import { untilStatus, proxyCall, statusError } from './test-support/calls';
import { startEchoBackends } from './test-support/echo-backends';
import type { DirectedProxy } from './test-support/proxy';
import { startDirectedProxy } from './test-support/proxy';

const echoMethod = '/grpc_proxy.testing.v1.EchoService/Echo';

describe('failover', () => {
  let servers: EchoServerHandle[];
  let backends: OwnedBackend[];
  let set: HealthCheckedSet;
  let director: ComposedDirector;
  let proxy: DirectedProxy;

  beforeEach(async () => {
    ({ servers, backends } = await startEchoBackends(['a', 'b', 'c']));
    set = healthChecked(backends, { backoff: { initialMs: 5, maxMs: 20 } });
    director = failover(set);
    await set.ready();
    proxy = await startDirectedProxy(director);
  });

  afterEach(async () => {
    await proxy.close();
    director.close();
    for (const server of servers) server.forceClose();
  });

  /** The names of the servers that answered `count` unary calls through the proxy, in order. */
  async function answeredBy(count: number): Promise<string[]> {
    const names: string[] = [];
    for (let index = 0; index < count; index++) {
      const outcome = await callEcho(proxy.client, echoRequest());
      expect(outcome.status).toMatchObject({ code: status.OK, details: 'OK' });
      names.push(...outcome.responses.map((response) => response.serverName));
    }
    return names;
  }

  /** Sets the health of server `index` and waits until the set has seen it. */
  async function setHealth(index: number, health: 'SERVING' | 'NOT_SERVING') {
    servers[index].setHealth('', health);
    await untilStatus(set, backends[index], health);
  }

  it('sends every call to the first serving member, and none to the others', async () => {
    expect(director.name).toBe('failover(healthChecked(a, b, c))');
    expect(await answeredBy(3)).toEqual(['a', 'a', 'a']);
    expect(servers.map((server) => server.calls.length)).toEqual([3, 0, 0]);
    expect(director.isAvailable()).toBe(true);
  });

  it('goes to the next member in the given order while the earlier ones are down, and back', async () => {
    await setHealth(0, 'NOT_SERVING');
    expect(await answeredBy(2)).toEqual(['b', 'b']);

    servers[1].forceClose();
    await untilStatus(set, backends[1], 'UNREACHABLE');
    expect(await answeredBy(2)).toEqual(['c', 'c']);

    await setHealth(0, 'SERVING');
    expect(await answeredBy(2)).toEqual(['a', 'a']);
    expect(servers.map((server) => server.calls.length)).toEqual([2, 2, 2]);
  });

  it('none serving: the set UNAVAILABLE naming each status, at once and backend untouched', async () => {
    for (const index of [0, 1, 2]) await setHealth(index, 'NOT_SERVING');
    expect(director.isAvailable()).toBe(false);
    const details = `no backend available for ${echoMethod} in healthChecked(a, b, c) (a: NOT_SERVING, b: NOT_SERVING, c: NOT_SERVING)`;
    const outcome = await callEcho(proxy.client, echoRequest());
    expect(outcome.status).toMatchObject({ code: status.UNAVAILABLE, details });
    expect(outcome.responses).toEqual([]);
    expect(() => director(proxyCall(echoMethod))).toThrow(statusError(status.UNAVAILABLE, details));
    expect(servers.map((server) => server.calls.length)).toEqual([0, 0, 0]);
  });

  it('closes the set and its backends once, then rejects calls with UNAVAILABLE', async () => {
    const closeSet = jest.spyOn(set, 'close');
    director.close();
    director.close();
    expect(closeSet).toHaveBeenCalledTimes(1);
    expect(backends.map((backend) => backend.closed)).toEqual([true, true, true]);
    expect(director.isAvailable()).toBe(false);
    const outcome = await callEcho(proxy.client, echoRequest());
    expect(outcome.status).toMatchObject({
      code: status.UNAVAILABLE,
      details: 'failover(healthChecked(a, b, c)) is closed',
    });
  });

  it('refuses what is not a backend set', () => {
    const lone = createBackend('127.0.0.1:1', { name: 'lone' });
    expect(() => failover(lone as unknown as BackendSet)).toThrow(
      new TypeError('failover: needs a backend set, e.g. healthChecked([a, b])'),
    );
    expect(lone.closed).toBe(false);
  });
});
