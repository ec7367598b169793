import { performance } from 'node:perf_hooks';
import { status } from '@grpc/grpc-js';
import { callEcho, echoRequest, startEchoServer } from '@grpc-proxy/testing';
import type { EchoServerHandle } from '@grpc-proxy/testing';
import type { ComposedDirector, OwnedBackend } from './index';
import { createBackend, roundRobin } from './index';
import { killEchoServer } from './test-support/echo-backends';
import { HealthLog } from './test-support/health-log';
import type { DirectedProxy } from './test-support/proxy';
import { startDirectedProxy } from './test-support/proxy';

const ECHO = '/grpc_proxy.testing.v1.EchoService/Echo';

describe('roundRobin with passive health, through a grpc-js engine proxy', () => {
  let servers: EchoServerHandle[];
  let logs: HealthLog[];
  let backends: OwnedBackend[];
  let director: ComposedDirector;
  let proxy: DirectedProxy;

  beforeEach(async () => {
    servers = await Promise.all(['a', 'b'].map((name) => startEchoServer({ name })));
    logs = servers.map(() => new HealthLog());
    backends = servers.map((server, index) =>
      createBackend(server.address, { name: server.name, onHealthChange: logs[index].listener }),
    );
    director = roundRobin(backends);
    proxy = await startDirectedProxy(director);
  });

  afterEach(async () => {
    await proxy.close();
    director.close();
    await Promise.all(servers.map(killEchoServer));
  });

  /** `count` calls in a row: the serving names, or `code details` for a failed call. */
  async function calls(count: number): Promise<string[]> {
    const seen: string[] = [];
    for (let index = 0; index < count; index++) {
      const outcome = await callEcho(proxy.client, echoRequest());
      seen.push(
        outcome.status.code === status.OK
          ? outcome.responses[0].serverName
          : `${outcome.status.code} ${outcome.status.details}`,
      );
    }
    return seen;
  }

  it('skips a killed backend once its failure is seen, fails fast when all are down, and uses one again once it is back', async () => {
    const [a, b] = servers;
    expect(await calls(4)).toEqual(['a', 'b', 'a', 'b']);

    await killEchoServer(b);
    expect(await logs[1].change(1)).toMatchObject({ available: false });
    expect(await calls(4)).toEqual(['a', 'a', 'a', 'a']);

    await killEchoServer(a);
    await logs[0].change(1);
    const started = performance.now();
    // Each target with its connection error, as grpc-js last saw it.
    const refused = (server: EchoServerHandle) =>
      `connection to ${server.address} failed: connect ECONNREFUSED ${server.address}`;
    expect(await calls(1)).toEqual([
      `${status.UNAVAILABLE} no backend available for ${ECHO} in roundRobin(a, b) (a: ${refused(a)}, b: ${refused(b)})`,
    ]);
    // No connect wait: the director rejects at once.
    expect(performance.now() - started).toBeLessThan(250);

    const back = await startEchoServer({ name: 'b', port: b.port });
    servers.push(back);
    const listeningAt = performance.now();
    const up = await logs[1].change(2);
    expect(up.available).toBe(true);
    // grpc-js's reconnect backoff is at most 500 ms (+ 20 % jitter) while down.
    expect(up.at - listeningAt).toBeLessThan(1000);
    expect(await calls(2)).toEqual(['b', 'b']);
    expect(back.calls.map((call) => call.method)).toEqual([ECHO, ECHO]);
  });
});
